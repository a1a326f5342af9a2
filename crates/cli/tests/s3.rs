//! The `kerchunk` command against a real S3-compatible server on 127.0.0.1 (moto, from the
//! pinned venv made by `scripts/pyenv`; `.ci/run` provides it). Each test starts its own
//! server with IAM enforced, two buckets and two users whose keys only work on their own
//! bucket (scripts/s3_test_setup.py): the data bucket (read-only key, `--data-option`) and
//! the refs bucket (read-write key, `--refs-option`). The environment's AWS variables are set
//! to wrong credentials, so only the per-side options can make a command work.
//!
//! Without the venv the tests are skipped with a loud message, unless
//! `KERCHUNK_REQUIRE_S3=1` (set by `.ci/run`), which makes a missing server a failure.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn venv_bin(name: &str) -> PathBuf {
    let venv =
        std::env::var_os("KERCHUNK_TEST_VENV").map_or_else(|| repo().join(".venv"), PathBuf::from);
    venv.join("bin").join(name)
}

/// A moto server we started; stopped (by its pid) when dropped.
struct Server {
    child: Child,
    endpoint: String,
    creds: Value,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    fn key(&self, side: &str) -> String {
        self.creds[side]["key"].as_str().unwrap().to_string()
    }
    fn secret(&self, side: &str) -> String {
        self.creds[side]["secret"].as_str().unwrap().to_string()
    }
    /// `--data-option` / `--refs-option` arguments with `side`'s credentials.
    fn options(&self, flag: &str, side: &str) -> Vec<String> {
        self.options_via(flag, side, &self.endpoint)
    }
    /// [`Server::options`] with another endpoint (a proxy in front of this server).
    fn options_via(&self, flag: &str, side: &str, endpoint: &str) -> Vec<String> {
        [
            format!("aws_access_key_id={}", self.key(side)),
            format!("aws_secret_access_key={}", self.secret(side)),
            format!("aws_endpoint={endpoint}"),
            "aws_allow_http=true".to_string(),
            "aws_region=us-east-1".to_string(),
        ]
        .into_iter()
        .flat_map(|o| [flag.to_string(), o])
        .collect()
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn wait_for_port(port: u16, what: &str) {
    let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_err() {
        assert!(Instant::now() < deadline, "{what} did not start on {addr}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Starts moto and prepares it; `None` (after a loud message) when the venv is missing.
fn start(uploads: &[(&str, &Path)]) -> Option<Server> {
    let moto = venv_bin("moto_server");
    let python = venv_bin("python");
    if !moto.exists() || !python.exists() {
        let msg = format!(
            "S3 TESTS SKIPPED: {} not found; create the venv with `scripts/pyenv` (it installs moto[server])",
            moto.display()
        );
        if std::env::var_os("KERCHUNK_REQUIRE_S3").is_some() {
            panic!("{msg} (KERCHUNK_REQUIRE_S3 is set)");
        }
        eprintln!("\n!!!!!!!! {msg} !!!!!!!!\n");
        return None;
    }
    let port = free_port();
    let child = Command::new(&moto)
        .args(["-H", "127.0.0.1", "-p", &port.to_string()])
        .env("INITIAL_NO_AUTH_ACTION_COUNT", "3")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let endpoint = format!("http://127.0.0.1:{port}");
    let mut server = Server {
        child,
        endpoint,
        creds: Value::Null,
    };
    wait_for_port(port, "moto");
    let mut setup = Command::new(&python);
    setup
        .arg(repo().join("scripts/s3_test_setup.py"))
        .arg(&server.endpoint);
    for (target, path) in uploads {
        setup
            .arg("--upload")
            .arg(format!("{target}={}", path.display()));
    }
    let out = setup.output().unwrap();
    assert!(
        out.status.success(),
        "setup failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    server.creds = serde_json::from_slice(&out.stdout).unwrap();
    Some(server)
}

fn opera_files() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(repo().join("fixtures/opera"))
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "nc"))
        .collect();
    v.sort();
    v
}

fn name(p: &Path) -> String {
    p.file_name().unwrap().to_string_lossy().into_owned()
}

/// Runs `kerchunk` with wrong AWS credentials in the environment.
fn kerchunk(args: &[String]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_kerchunk"));
    for (k, _) in std::env::vars() {
        if k.starts_with("AWS_") {
            c.env_remove(k);
        }
    }
    c.env("AWS_ACCESS_KEY_ID", "AKIAWRONGWRONGWRONG")
        .env("AWS_SECRET_ACCESS_KEY", "wrong-secret-from-the-environment")
        .env("AWS_SESSION_TOKEN", "wrong-token-from-the-environment")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

fn args(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn inspect_with_per_side_credentials() {
    let files = opera_files();
    let f = &files[0];
    let key = format!("disp/{}", name(f));
    let Some(s) = start(&[(&format!("data/{key}"), f)]) else {
        return;
    };
    let url = format!("s3://data/{key}");

    // Data credentials on the data side: works, and the JSON describes the product.
    let mut a = args(&["inspect", "--json", &url]);
    a.extend(s.options("--data-option", "data"));
    let o = kerchunk(&a);
    assert!(o.status.success(), "{}", stderr(&o));
    let j: Value = serde_json::from_slice(&o.stdout).unwrap();
    let d = j["objects"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["path"] == "/short_wavelength_displacement")
        .unwrap();
    assert_eq!(d["shape"], serde_json::json!([200, 300]));
    assert_eq!(j["size"], std::fs::metadata(f).unwrap().len());

    // -v logs the requests, without credentials.
    a.push("-v".into());
    let o = kerchunk(&a);
    assert!(o.status.success(), "{}", stderr(&o));
    let log = stderr(&o);
    assert!(log.contains(&format!("GET {url} bytes=0-")), "{log}");
    // The first ranged GET also gives the object's size: no separate HEAD round trip.
    assert!(!log.contains("HEAD "), "{log}");
    assert!(!log.contains(&s.secret("data")), "secret in the log: {log}");

    // The refs key cannot read the data bucket: exit 1, AccessDenied, no secret shown.
    let mut a = args(&["inspect", &url]);
    a.extend(s.options("--data-option", "refs"));
    let o = kerchunk(&a);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.contains("403") || err.contains("AccessDenied") || err.contains("Access Denied"),
        "{err}"
    );
    assert!(!err.contains(&s.secret("refs")), "{err}");

    // Without options, the (wrong) environment credentials are used and rejected.
    let o = kerchunk(&args(&[
        "inspect",
        &url,
        "--data-option",
        &format!("aws_endpoint={}", s.endpoint),
        "--data-option",
        "aws_allow_http=true",
    ]));
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    assert!(
        !err.contains("wrong-secret-from-the-environment")
            && !err.contains("wrong-token-from-the-environment"),
        "{err}"
    );

    // An unknown option key is a usage error (exit 2) that names the key, not the value.
    let o = kerchunk(&args(&[
        "inspect",
        &url,
        "--data-option",
        "aws_colour=hidden-value",
    ]));
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(
        err.contains("aws_colour") && !err.contains("hidden-value"),
        "{err}"
    );
}

/// Indexes the three OPERA fixtures from the data bucket into the refs bucket: two with
/// `--out-dir` (plain JSON, concurrently), one with `-o` into JSON.gz. Returns the per-file
/// reference URLs in file order.
fn index_into_refs_bucket(s: &Server, files: &[PathBuf]) -> Vec<String> {
    let urls: Vec<String> = files
        .iter()
        .map(|f| format!("s3://data/disp/{}", name(f)))
        .collect();
    let mut a = args(&[
        "index",
        "--profile",
        "opera-disp",
        "--out-dir",
        "s3://refs/per-file/",
        "--jobs",
        "2",
    ]);
    a.extend(urls.iter().take(2).cloned());
    a.extend(s.options("--data-option", "data"));
    a.extend(s.options("--refs-option", "refs"));
    let o = kerchunk(&a);
    assert!(o.status.success(), "{}", stderr(&o));
    let gz = format!("s3://refs/per-file/{}.json.gz", name(&files[2]));
    let mut a = args(&["index", "--profile", "opera-disp", &urls[2], "-o", &gz]);
    a.extend(s.options("--data-option", "data"));
    a.extend(s.options("--refs-option", "refs"));
    let o = kerchunk(&a);
    assert!(o.status.success(), "{}", stderr(&o));
    files
        .iter()
        .enumerate()
        .map(|(i, f)| {
            if i == 2 {
                gz.clone()
            } else {
                format!("s3://refs/per-file/{}.json", name(f))
            }
        })
        .collect()
}

fn uploads(files: &[PathBuf]) -> Vec<(String, PathBuf)> {
    files
        .iter()
        .map(|f| (format!("data/disp/{}", name(f)), f.clone()))
        .collect()
}

/// Runs scripts/check_opera_stack.py over S3 with both buckets' credentials.
fn check_with_xarray(s: &Server, stack: Option<&str>, per_file: &[String]) {
    let mut check = Command::new(venv_bin("python"));
    check.arg(repo().join("scripts/check_opera_stack.py"));
    if let Some(stack) = stack {
        check.args(["--stack", stack]);
    }
    check
        .arg("--nc-dir")
        .arg(repo().join("fixtures/opera"))
        .args([
            "--url-prefix",
            "s3://data/disp",
            "--s3-endpoint",
            &s.endpoint,
        ])
        .args([
            "--refs-key",
            &s.key("refs"),
            "--refs-secret",
            &s.secret("refs"),
        ])
        .args([
            "--data-key",
            &s.key("data"),
            "--data-secret",
            &s.secret("data"),
        ])
        .args(per_file);
    let o = check.output().unwrap();
    assert!(
        o.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&o.stdout),
        stderr(&o)
    );
}

/// Index from the data bucket into the refs bucket, each with its own key; the per-file
/// stores read back with xarray through fsspec/s3fs equal the files read with h5py.
#[test]
fn index_over_s3() {
    let files = opera_files();
    let up = uploads(&files);
    let up: Vec<(&str, &Path)> = up.iter().map(|(t, p)| (t.as_str(), p.as_path())).collect();
    let Some(s) = start(&up) else { return };
    let per_file = index_into_refs_bucket(&s, &files);

    // Swapped credentials: the data key cannot write the refs bucket; nothing is written.
    let src = format!("s3://data/disp/{}", name(&files[0]));
    let mut a = args(&[
        "index",
        "--profile",
        "opera-disp",
        &src,
        "-o",
        "s3://refs/denied.json",
    ]);
    a.extend(s.options("--data-option", "data"));
    a.extend(s.options("--refs-option", "data"));
    let o = kerchunk(&a);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(!stderr(&o).contains(&s.secret("data")), "{}", stderr(&o));

    check_with_xarray(&s, None, &per_file);
}

/// The whole workflow over S3: index, `latest`, combine from the refs bucket into it (small
/// chunks inlined from the data bucket), and the stack read back with xarray.
#[test]
fn latest_and_combine_over_s3() {
    let files = opera_files();
    let up = uploads(&files);
    let up: Vec<(&str, &Path)> = up.iter().map(|(t, p)| (t.as_str(), p.as_path())).collect();
    let Some(s) = start(&up) else { return };
    let per_file = index_into_refs_bucket(&s, &files);

    let o = kerchunk(&[vec!["latest".to_string()], per_file.clone()].concat());
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(String::from_utf8_lossy(&o.stdout).lines().count(), 3);

    let mut a = args(&[
        "combine",
        "--profile",
        "opera-disp",
        "-o",
        "s3://refs/stack.json",
        // Fixed-length identification strings whose width differs between products
        // (|S149..|S299) are widened by the combine.
    ]);
    a.extend(per_file.iter().cloned());
    a.extend(s.options("--data-option", "data"));
    a.extend(s.options("--refs-option", "refs"));
    let o = kerchunk(&a);
    assert!(o.status.success(), "{}", stderr(&o));

    check_with_xarray(&s, Some("s3://refs/stack.json"), &per_file);
}

/// scripts/fault_proxy.py in front of a moto server: every request gets the next fault of a
/// cyclic plan (HTTP 500/503, connection reset, slow response, truncated body, or none).
struct FaultProxy {
    child: Child,
    endpoint: String,
    log: PathBuf,
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl FaultProxy {
    fn start(upstream: &Server, plan: &str, slow_secs: f64, log: PathBuf) -> FaultProxy {
        let port = free_port();
        let upstream = upstream.endpoint.trim_start_matches("http://");
        let child = Command::new(venv_bin("python"))
            .arg(repo().join("scripts/fault_proxy.py"))
            .args([&port.to_string(), upstream, plan])
            .arg(&log)
            .args(["--slow", &slow_secs.to_string()])
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        wait_for_port(port, "fault_proxy.py");
        FaultProxy {
            child,
            endpoint: format!("http://127.0.0.1:{port}"),
            log,
        }
    }

    /// The faults applied so far, one per request.
    fn faults(&self) -> Vec<String> {
        std::fs::read_to_string(&self.log)
            .unwrap_or_default()
            .lines()
            .map(|l| {
                serde_json::from_str::<Value>(l).unwrap()["fault"]
                    .as_str()
                    .unwrap()
                    .to_string()
            })
            .collect()
    }
}

/// A fresh empty directory for one test's local outputs.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("kerchunk-s3-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn files_in(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

/// Index (data bucket → refs bucket) and combine (refs bucket → local file) with every request
/// of both sides going through a proxy that fails, resets, stalls or truncates most of them:
/// the retries (short backoff and a 1 s timeout, so stalls time out) make both commands
/// succeed with output identical, byte for byte, to the same commands run without faults.
#[test]
fn index_and_combine_through_faults_give_identical_output() {
    let files = opera_files();
    let up = uploads(&files);
    let up: Vec<(&str, &Path)> = up.iter().map(|(t, p)| (t.as_str(), p.as_path())).collect();
    let Some(s) = start(&up) else { return };
    let dir = scratch("faults");
    let proxy = FaultProxy::start(
        &s,
        "500,ok,503,reset,ok,truncate,ok,slow,ok",
        3.0,
        dir.join("proxy.log"),
    );
    let urls: Vec<String> = files
        .iter()
        .map(|f| format!("s3://data/disp/{}", name(f)))
        .collect();
    let run = |endpoint: &str, prefix: &str, out: &Path| {
        let tuning = ["retry_backoff=10ms", "timeout=1s"];
        let side = |flag: &str, who: &str| {
            let mut o = s.options_via(flag, who, endpoint);
            for t in tuning {
                o.extend([flag.to_string(), t.to_string()]);
            }
            o
        };
        let mut a = args(&["index", "--profile", "opera-disp", "--out-dir", prefix]);
        a.extend(urls.iter().cloned());
        a.extend(side("--data-option", "data"));
        a.extend(side("--refs-option", "refs"));
        let o = kerchunk(&a);
        assert!(o.status.success(), "index via {endpoint}: {}", stderr(&o));
        let mut a = args(&["combine", "--profile", "opera-disp", "-o"]);
        a.push(out.display().to_string());
        a.extend(files.iter().map(|f| format!("{prefix}{}.json", name(f))));
        a.extend(side("--data-option", "data"));
        a.extend(side("--refs-option", "refs"));
        let o = kerchunk(&a);
        assert!(o.status.success(), "combine via {endpoint}: {}", stderr(&o));
    };
    run(&s.endpoint, "s3://refs/clean/", &dir.join("clean.json"));
    run(
        &proxy.endpoint,
        "s3://refs/faulty/",
        &dir.join("faulty.json"),
    );

    let clean = std::fs::read(dir.join("clean.json")).unwrap();
    let faulty = std::fs::read(dir.join("faulty.json")).unwrap();
    assert!(clean == faulty, "the stack made through faults differs");
    let faults = proxy.faults();
    for kind in ["500", "503", "reset", "truncate", "slow"] {
        let n = faults.iter().filter(|f| f.starts_with(kind)).count();
        assert!(n > 0, "no {kind:?} fault was injected: {faults:?}");
    }
    eprintln!("{} requests through the proxy: {faults:?}", faults.len());
    let _ = std::fs::remove_dir_all(&dir);
}

/// When every request fails, each command gives up after its retries with an error naming
/// the object and the cause, exit status 1, and leaves no output (not even a partial or
/// temporary file) behind.
#[test]
fn persistent_faults_fail_cleanly_without_partial_output() {
    let files = opera_files();
    let up = uploads(&files);
    let up: Vec<(&str, &Path)> = up.iter().map(|(t, p)| (t.as_str(), p.as_path())).collect();
    let Some(s) = start(&up) else { return };
    let dir = scratch("failing");
    let out = dir.join("out");
    std::fs::create_dir_all(&out).unwrap();
    let url = format!("s3://data/disp/{}", name(&files[0]));
    let tuning = ["max_retries=2", "retry_backoff=10ms", "timeout=1s"];
    for plan in ["503", "reset", "truncate", "500,ok"] {
        let proxy = FaultProxy::start(&s, plan, 0.0, dir.join(format!("{plan}.log")));
        let mut a = args(&["index", &url, "-o"]);
        a.push(out.join("refs.json").display().to_string());
        a.extend(s.options_via("--data-option", "data", &proxy.endpoint));
        for t in tuning {
            a.extend(["--data-option".to_string(), t.to_string()]);
        }
        let o = kerchunk(&a);
        let err = stderr(&o);
        if plan == "500,ok" {
            // Every other request fails: two retries are enough.
            assert!(o.status.success(), "{plan}: {err}");
            std::fs::remove_file(out.join("refs.json")).unwrap();
            continue;
        }
        assert_eq!(o.status.code(), Some(1), "{plan}: {err}");
        assert!(
            err.contains(&url),
            "{plan}: error does not name the object: {err}"
        );
        assert!(
            files_in(&out).is_empty(),
            "{plan}: output left behind: {:?}",
            files_in(&out)
        );
        let requests = proxy.faults().len();
        // HEAD and the first read, each tried 1 + max_retries times at most.
        assert!((1..=6).contains(&requests), "{plan}: {requests} requests");
        if plan == "503" {
            assert!(err.contains("503"), "{plan}: cause not shown: {err}");
        }
    }

    // Combine: the refs side fails (reading inputs), nothing is written.
    let proxy = FaultProxy::start(&s, "503", 0.0, dir.join("combine.log"));
    let mut a = args(&["combine", "--profile", "opera-disp", "-o"]);
    a.push(out.join("stack.json").display().to_string());
    a.push("s3://refs/missing-anyway.json".to_string());
    a.extend(s.options_via("--refs-option", "refs", &proxy.endpoint));
    for t in tuning {
        a.extend(["--refs-option".to_string(), t.to_string()]);
    }
    let o = kerchunk(&a);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(files_in(&out).is_empty(), "{:?}", files_in(&out));
    let _ = std::fs::remove_dir_all(&dir);
}
