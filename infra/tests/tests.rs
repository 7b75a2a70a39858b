//! Assertions on the synthesized template, in the style of CDK's `assertions` module.

mod assertions;
mod grants;
mod template;
