//! What the Task handlers share: the environment's services, the clock of the execution
//! they answer, and how to build the handlers for a nested execution.

use std::collections::BTreeMap;
use std::sync::Arc;

use aws_emulator::Store;
use futures::future::BoxFuture;
use sfn_local::{Clock, ExecuteOptions, Handlers, StateMachine, VirtualClock};

use crate::Bindings;
use crate::environment::Function;

pub(crate) struct Services {
    pub(crate) bindings: Bindings,
    pub(crate) store: Store,
    pub(crate) functions: BTreeMap<String, Function>,
    /// By ARN: the state machine's name and its loaded definition.
    pub(crate) machines: BTreeMap<String, (String, Arc<StateMachine>)>,
    pub(crate) clock: VirtualClock,
}

/// What one set of handlers works with: the services and the clock of the execution they
/// answer (a request-response child execution runs on a clock of its own).
#[derive(Clone)]
pub(crate) struct Context {
    pub(crate) services: Arc<Services>,
    pub(crate) clock: VirtualClock,
    /// Builds the handlers over a context; given by the crate's root, so that the handlers'
    /// modules, which start nested executions, need not know each other.
    build: fn(&Context) -> Handlers,
}

impl Context {
    pub(crate) fn new(
        services: Arc<Services>,
        clock: VirtualClock,
        build: fn(&Context) -> Handlers,
    ) -> Self {
        Context {
            services,
            clock,
            build,
        }
    }

    /// The same services on another clock.
    pub(crate) fn with_clock(&self, clock: VirtualClock) -> Self {
        Context {
            clock,
            ..self.clone()
        }
    }

    /// The Task handlers over these services and this clock.
    pub(crate) fn handlers(&self) -> Handlers {
        (self.build)(self)
    }

    /// Options running an execution on this clock, driving it (top-level: the clock jumps
    /// whenever the execution waits) or `passive`, for an execution nested in another whose
    /// driver moves the shared clock.
    pub(crate) fn options(&self, passive: bool) -> ExecuteOptions {
        let clock: Arc<dyn Clock> = if passive {
            Arc::new(Passive(self.clock.clone()))
        } else {
            Arc::new(self.clock.clone())
        };
        ExecuteOptions::new().handlers(self.handlers()).clock(clock)
    }
}

/// A view of a shared virtual clock that never moves it: an execution nested in another
/// (a `.sync` child) reads and sleeps on its parent's time, and only the outermost
/// execution's driver, which sees that everything is waiting, may jump ahead. Were the
/// child to advance the clock, it would run past its parent's task timeout unseen.
struct Passive(VirtualClock);

impl Clock for Passive {
    fn now_millis(&self) -> i64 {
        self.0.now_millis()
    }

    fn sleep_until(&self, deadline_millis: i64) -> BoxFuture<'static, ()> {
        self.0.sleep_until(deadline_millis)
    }
}
