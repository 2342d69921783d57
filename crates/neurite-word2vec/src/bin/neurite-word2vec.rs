//! `neurite-word2vec`: word2vec.c's command line (a drop-in replacement) plus `similar`,
//! `analogy`, `doesnt-match`, `evaluate` and `plot`. Run it without arguments for the usage text.

fn main() {
    // Arguments as the system gives them: file names and words need not be UTF-8.
    let args: Vec<std::ffi::OsString> = std::env::args_os().skip(1).collect();
    let stdout = std::io::stdout();
    if let Err(e) = neurite_word2vec::cli::run_os(&args, &mut stdout.lock()) {
        eprintln!("neurite-word2vec: {e}");
        if matches!(e, neurite_word2vec::Error::InvalidConfig { .. }) {
            eprintln!("\n{}", neurite_word2vec::cli::USAGE);
        }
        std::process::exit(1);
    }
}
