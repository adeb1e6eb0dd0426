//! The `sstkit` command-line tool; see `sstkit --help`.

fn main() {
    std::process::exit(sstkit::cli::run(std::env::args_os()));
}
