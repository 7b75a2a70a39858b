//! Time, as the host chooses it: virtual for tests, real for demos.

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll, Waker};

use futures::future::BoxFuture;

/// The clock an execution reads and sleeps on (Wait states, retry back-off, timeouts).
pub trait Clock: Send + Sync {
    /// Milliseconds since the Unix epoch.
    fn now_millis(&self) -> i64;
    /// Completes once [`now_millis`](Clock::now_millis) has reached `deadline_millis`.
    fn sleep_until(&self, deadline_millis: i64) -> BoxFuture<'static, ()>;
    /// Called by the engine when the whole execution is waiting. A virtual clock jumps to its
    /// earliest pending deadline, wakes those sleepers and returns `true`; a real clock
    /// returns `false` and lets time pass.
    fn advance(&self) -> bool {
        false
    }
}

/// A clock whose time moves only when an execution would otherwise wait: a Wait of an hour
/// or a back-off of minutes completes at once, while history timestamps still advance by
/// exactly that much.
///
/// Time jumps whenever the execution is idle, including while a task handler is pending on
/// real I/O; hosts whose handlers do real I/O under task timeouts should use a real clock.
#[derive(Clone)]
pub struct VirtualClock {
    inner: Arc<Mutex<Timers>>,
}

struct Timers {
    now: i64,
    seq: u64,
    waiting: BTreeMap<(i64, u64), Waker>,
}

impl VirtualClock {
    /// A clock reading `start_millis` (milliseconds since the Unix epoch).
    pub fn new(start_millis: i64) -> Self {
        VirtualClock {
            inner: Arc::new(Mutex::new(Timers {
                now: start_millis,
                seq: 0,
                waiting: BTreeMap::new(),
            })),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Timers> {
        // A panic while holding this lock cannot leave the map inconsistent.
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Clock for VirtualClock {
    fn now_millis(&self) -> i64 {
        self.lock().now
    }

    fn sleep_until(&self, deadline_millis: i64) -> BoxFuture<'static, ()> {
        Box::pin(VirtualSleep {
            clock: self.clone(),
            deadline: deadline_millis,
            key: None,
        })
    }

    fn advance(&self) -> bool {
        let mut t = self.lock();
        let Some((&(deadline, _), _)) = t.waiting.first_key_value() else {
            return false;
        };
        t.now = t.now.max(deadline);
        let now = t.now;
        let due: Vec<(i64, u64)> = t.waiting.range(..(now + 1, 0)).map(|(k, _)| *k).collect();
        let wakers: Vec<Waker> = due.iter().filter_map(|k| t.waiting.remove(k)).collect();
        drop(t);
        for w in wakers {
            w.wake();
        }
        true
    }
}

struct VirtualSleep {
    clock: VirtualClock,
    deadline: i64,
    key: Option<(i64, u64)>,
}

impl Future for VirtualSleep {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = &mut *self;
        let mut t = this.clock.lock();
        if t.now >= this.deadline {
            if let Some(k) = this.key.take() {
                t.waiting.remove(&k);
            }
            return Poll::Ready(());
        }
        let key = match this.key {
            Some(k) => k,
            None => {
                t.seq += 1;
                let k = (this.deadline, t.seq);
                this.key = Some(k);
                k
            }
        };
        t.waiting.insert(key, cx.waker().clone());
        Poll::Pending
    }
}

impl Drop for VirtualSleep {
    fn drop(&mut self) {
        if let Some(k) = self.key.take() {
            self.clock.lock().waiting.remove(&k);
        }
    }
}

/// A real clock built from the host's sleep function, so the engine stays independent of
/// any async runtime: `RealClock::new(|d| Box::pin(tokio::time::sleep(d)))`.
pub struct RealClock<F> {
    sleep: F,
}

impl<F> RealClock<F>
where
    F: Fn(std::time::Duration) -> BoxFuture<'static, ()> + Send + Sync,
{
    /// A clock reading the system time and sleeping with `sleep`.
    pub fn new(sleep: F) -> Self {
        RealClock { sleep }
    }
}

impl<F> Clock for RealClock<F>
where
    F: Fn(std::time::Duration) -> BoxFuture<'static, ()> + Send + Sync,
{
    fn now_millis(&self) -> i64 {
        system_millis()
    }

    fn sleep_until(&self, deadline_millis: i64) -> BoxFuture<'static, ()> {
        let wait = deadline_millis.saturating_sub(system_millis()).max(0);
        (self.sleep)(std::time::Duration::from_millis(wait.unsigned_abs()))
    }
}

/// The system time in milliseconds since the Unix epoch (0 if the clock is before it).
pub fn system_millis() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn virtual_sleep_completes_when_advanced() {
        let clock = VirtualClock::new(1_000);
        let c2 = clock.clone();
        let mut sleep = clock.sleep_until(61_000);
        let waker = futures::task::noop_waker();
        let mut cx = Context::from_waker(&waker);
        assert!(sleep.as_mut().poll(&mut cx).is_pending());
        assert!(c2.advance());
        assert_eq!(clock.now_millis(), 61_000);
        assert!(sleep.as_mut().poll(&mut cx).is_ready());
        assert!(!c2.advance());
    }

    #[test]
    fn past_deadlines_are_ready_at_once() {
        let clock = VirtualClock::new(5_000);
        let mut sleep = clock.sleep_until(10);
        let waker = futures::task::noop_waker();
        assert!(
            sleep
                .as_mut()
                .poll(&mut Context::from_waker(&waker))
                .is_ready()
        );
        assert_eq!(clock.now_millis(), 5_000);
    }
}
