//! The `sstkit` command-line tool; see `sstkit --help`.

fn main() {
    limit_malloc_arenas();
    std::process::exit(sstkit::cli::run(std::env::args_os()));
}

/// glibc's malloc gives each thread that allocates a heap of its own (up to 8 per CPU), and memory freed stays in
/// the heap it came from: in a long merge (run reads and uploads on tokio's blocking threads) those heaps held
/// ~190 MiB more than with two of them (BENCHMARKS.md, "10 GiB after the merge shares `--memory`"). The limit is
/// read from the environment when the process starts, so the tool executes itself again, once, with
/// `MALLOC_ARENA_MAX=2` unless the variable is set (the same process id, arguments and open files). It also sets
/// `MALLOC_MMAP_THRESHOLD_=1048576` (unless set): blocks of 1 MiB and more (a merge's run reads, a writer's
/// workspace) are their own mappings, returned when freed, instead of leaving holes in those heaps (a 10 GiB
/// merge into one file held ~60 MiB more without it).
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn limit_malloc_arenas() {
    use std::os::unix::process::CommandExt;
    if std::env::var_os("MALLOC_ARENA_MAX").is_some() {
        return;
    }
    let Ok(exe) = std::env::current_exe() else { return };
    let mut args = std::env::args_os();
    let arg0 = args.next().unwrap_or_else(|| exe.clone().into_os_string());
    // `exec` returns only if it failed: then run as we are.
    let mut cmd = std::process::Command::new(&exe);
    cmd.arg0(arg0).args(args).env("MALLOC_ARENA_MAX", "2");
    if std::env::var_os("MALLOC_MMAP_THRESHOLD_").is_none() {
        cmd.env("MALLOC_MMAP_THRESHOLD_", "1048576");
    }
    let _failed = cmd.exec();
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn limit_malloc_arenas() {}
