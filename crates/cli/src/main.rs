//! The `kerchunk` command.

fn main() {
    eprintln!("kerchunk: not yet implemented");
    std::process::exit(1);
}
