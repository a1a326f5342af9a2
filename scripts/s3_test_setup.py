#!/usr/bin/env python
"""Prepare a fresh moto S3 server for the kerchunk S3 tests (crates/cli/tests/s3.rs).

    "$(scripts/pyenv)" scripts/s3_test_setup.py http://127.0.0.1:PORT \\
        [--data-bucket data] [--refs-bucket refs] [--upload BUCKET/KEY=PATH]...

The server must have been started with INITIAL_NO_AUTH_ACTION_COUNT=3 (moto then enforces
IAM after three unauthenticated requests, which this script spends creating an admin user
and its key). With the admin key it creates both buckets, uploads the files, and creates two
users whose keys only work on their own bucket:

  data: s3:GetObject / s3:ListBucket on the data bucket (read-only)
  refs: s3:* on the refs bucket

so a command that uses the wrong credentials for a side fails with AccessDenied. Prints
{"admin": {...}, "data": {...}, "refs": {...}} with "key" and "secret" on stdout.
"""
import argparse
import json
import sys

import boto3

REGION = "us-east-1"


def client(service, endpoint, key, secret):
    return boto3.client(service, endpoint_url=endpoint, aws_access_key_id=key,
                        aws_secret_access_key=secret, region_name=REGION)


def policy(statements):
    return json.dumps({"Version": "2012-10-17", "Statement": statements})


def user(iam, name, statements):
    iam.create_user(UserName=name)
    iam.put_user_policy(UserName=name, PolicyName=f"{name}-policy", PolicyDocument=policy(statements))
    k = iam.create_access_key(UserName=name)["AccessKey"]
    return {"key": k["AccessKeyId"], "secret": k["SecretAccessKey"]}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("endpoint")
    ap.add_argument("--data-bucket", default="data")
    ap.add_argument("--refs-bucket", default="refs")
    ap.add_argument("--upload", action="append", default=[], metavar="BUCKET/KEY=PATH")
    a = ap.parse_args()

    # Three unauthenticated actions: the admin user, its policy, its key.
    boot = client("iam", a.endpoint, "bootstrap", "bootstrap")
    admin = user(boot, "admin", [{"Effect": "Allow", "Action": "*", "Resource": "*"}])
    iam = client("iam", a.endpoint, admin["key"], admin["secret"])
    s3 = client("s3", a.endpoint, admin["key"], admin["secret"])
    for b in (a.data_bucket, a.refs_bucket):
        s3.create_bucket(Bucket=b)
    for u in a.upload:
        target, path = u.split("=", 1)
        bucket, key = target.split("/", 1)
        s3.upload_file(path, bucket, key)
    d, r = a.data_bucket, a.refs_bucket
    data = user(iam, "data-reader", [{
        "Effect": "Allow", "Action": ["s3:GetObject", "s3:ListBucket"],
        "Resource": [f"arn:aws:s3:::{d}", f"arn:aws:s3:::{d}/*"]}])
    refs = user(iam, "refs-writer", [{
        "Effect": "Allow", "Action": ["s3:*"],
        "Resource": [f"arn:aws:s3:::{r}", f"arn:aws:s3:::{r}/*"]}])
    json.dump({"admin": admin, "data": data, "refs": refs}, sys.stdout)
    print()


if __name__ == "__main__":
    main()
