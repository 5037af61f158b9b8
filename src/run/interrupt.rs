//! The request to stop a run early (Ctrl-C), as the runner sees it: cases
//! not yet started are not started, and running ones end at once; both are
//! ERROR "interrupted", and the reports are still written.

use tokio::sync::watch;

/// Set once when the person running wsspec asks it to stop.
#[derive(Debug, Clone)]
pub struct Interrupt(watch::Receiver<bool>);

impl Interrupt {
    /// An interrupt and the switch that sets it.
    pub fn new() -> (watch::Sender<bool>, Interrupt) {
        let (tx, rx) = watch::channel(false);
        (tx, Interrupt(rx))
    }

    /// One that is never set.
    pub fn never() -> Interrupt {
        Interrupt::new().1
    }

    pub fn is_set(&self) -> bool {
        *self.0.borrow()
    }

    /// Resolves when the interrupt is set (never, for [`Interrupt::never`]).
    pub async fn wait(&self) {
        let mut rx = self.0.clone();
        if rx.wait_for(|set| *set).await.is_err() {
            std::future::pending::<()>().await;
        }
    }
}

impl Default for Interrupt {
    fn default() -> Self {
        Interrupt::never()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn set_once_and_seen_by_every_clone() {
        let (switch, interrupt) = Interrupt::new();
        let other = interrupt.clone();
        assert!(!interrupt.is_set());
        let waiting = tokio::spawn(async move { other.wait().await });
        switch.send(true).expect("receivers alive");
        waiting.await.expect("woken");
        assert!(interrupt.is_set());
        // Never set: waiting does not end.
        let never = Interrupt::never();
        let timed = tokio::time::timeout(std::time::Duration::from_millis(20), never.wait()).await;
        assert!(timed.is_err());
        assert!(!never.is_set());
    }
}
