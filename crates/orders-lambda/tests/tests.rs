//! Integration tests of the handlers: the sample events give the documented answers, and no
//! log line shows a card number.

mod common;
mod handlers;
mod properties;
