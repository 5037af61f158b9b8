//! The `wsspec` binary: parses the command line and hands it to the library
//! ([`wsspec::cli::execute`]), which owns every command and the exit codes.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    wsspec::cli::execute(wsspec::cli::Cli::parse())
}
