//! Colours and the one-line error format. Colours only where a person reads a terminal:
//! `NO_COLOR`, `CLICOLOR=0`, `TERM=dumb` or a pipe turn them off (`CLICOLOR_FORCE` turns them
//! on), as `anstream` decides for clap's own help.

use std::io::IsTerminal;

use anstyle::{AnsiColor, Style};

/// Whether stderr gets colours.
pub fn stderr_colours() -> bool {
    anstream::AutoStream::choice(&std::io::stderr()) != anstream::ColorChoice::Never
}

/// Whether stdout gets colours.
pub fn stdout_colours() -> bool {
    anstream::AutoStream::choice(&std::io::stdout()) != anstream::ColorChoice::Never
}

/// Whether stderr is a terminal a live status line can be redrawn on.
pub fn stderr_is_terminal() -> bool {
    std::io::stderr().is_terminal() && std::env::var("TERM").map_or(true, |t| t != "dumb")
}

/// The colour that says how an invocation or command is doing.
pub fn for_status(status: &str) -> Style {
    let colour = match status {
        "Success" => AnsiColor::Green,
        "Failed" | "TimedOut" | "Execution Timed Out" | "Undeliverable" | "Terminated" => {
            AnsiColor::Red
        }
        "Cancelled" | "Cancelling" | "Delivery Timed Out" | "DeliveryTimedOut" | "Delayed"
        | "offline" | "ConnectionLost" => AnsiColor::Yellow,
        "InProgress" | "running" => AnsiColor::Cyan,
        _ => return Style::new(),
    };
    Style::new().fg_color(Some(colour.into()))
}

pub fn dim() -> Style {
    Style::new().dimmed()
}

/// `text` in `style` when `on`.
pub fn paint(on: bool, style: Style, text: &str) -> String {
    if on && style != Style::new() {
        format!("{style}{text}{style:#}")
    } else {
        text.to_string()
    }
}

/// Print an error as one line on stderr: `error: …` (red on a terminal).
pub fn error_line(message: &str) {
    let on = stderr_colours();
    let label = paint(
        on,
        Style::new().bold().fg_color(Some(AnsiColor::Red.into())),
        "error:",
    );
    eprintln!("{label} {}", message.replace('\n', " "));
}
