//! Assertions on the synthesized template, in the style of CDK's `assertions` module.

mod assertions;
mod contract;
mod grants;
mod template;
