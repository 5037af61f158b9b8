//! The `wsspec` binary: parses the command line (with `run`'s config file,
//! [`wsspec::cli::config`]) and hands it to the library
//! ([`wsspec::cli::execute`]), which owns every command and the exit codes.

use std::process::ExitCode;

fn main() -> ExitCode {
    match wsspec::cli::config::parse_command_line(std::env::args_os().collect()) {
        Ok(cli) => wsspec::cli::execute(cli),
        Err(code) => code,
    }
}
