//! Host side of `pg-component:plugin/log`: messages a guest logs are buffered in its store and
//! reported through Postgres' `ereport` after the call returns, never from inside wasm frames.

use wasmtime::component::{HasSelf, Linker};

use super::HostState;

/// Most messages kept per call; the rest are counted.
pub const MAX_MESSAGES: usize = 100;

/// Most bytes kept per message.
pub const MAX_MESSAGE_BYTES: usize = 8 * 1024;

pub use super::v0_1::pg_component::plugin::log::Level;

/// Messages logged during one call.
#[derive(Default)]
pub struct LogBuffer {
    messages: Vec<(Level, String)>,
    dropped: usize,
}

impl LogBuffer {
    /// Keep a message, within the bounds.
    pub fn push(&mut self, level: Level, mut message: String) {
        if self.messages.len() >= MAX_MESSAGES {
            self.dropped += 1;
            return;
        }
        if message.len() > MAX_MESSAGE_BYTES {
            let mut end = MAX_MESSAGE_BYTES;
            while !message.is_char_boundary(end) {
                end -= 1;
            }
            message.truncate(end);
            message.push('…');
        }
        self.messages.push((level, message));
    }

    /// Whether nothing was logged since the last take.
    pub fn is_empty(&self) -> bool {
        self.messages.is_empty() && self.dropped == 0
    }

    /// Take the messages and the count of dropped ones.
    pub fn take(&mut self) -> (Vec<(Level, String)>, usize) {
        (
            std::mem::take(&mut self.messages),
            std::mem::take(&mut self.dropped),
        )
    }
}

impl super::v0_1::pg_component::plugin::log::Host for HostState {
    fn log(&mut self, level: Level, message: String) {
        self.log.push(level, message);
    }
}

impl super::v0_2::pg_component::plugin::log::Host for HostState {
    fn log(
        &mut self,
        level: super::v0_2::pg_component::plugin::log::Level,
        message: String,
    ) -> wasmtime::Result<()> {
        use super::v0_2::pg_component::plugin::log::Level as L2;
        let level = match level {
            L2::Debug => Level::Debug,
            L2::Info => Level::Info,
            L2::Notice => Level::Notice,
            L2::Warning => Level::Warning,
        };
        self.log.push(level, message);
        Ok(())
    }
}

/// Serve the interface (every version of it) from `linker`.
pub fn add_to_linker(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    super::v0_1::pg_component::plugin::log::add_to_linker::<HostState, HasSelf<HostState>>(
        linker,
        |state| state,
    )?;
    super::v0_2::pg_component::plugin::log::add_to_linker::<HostState, HasSelf<HostState>>(
        linker,
        |state| state,
    )
}

/// Report what a guest logged, now that no wasm frame is on the stack.
pub fn report(plugin: &str, buffer: &mut LogBuffer) {
    let (messages, dropped) = buffer.take();
    for (level, message) in messages {
        match level {
            Level::Debug => pgrx::debug1!("plugin {plugin}: {message}"),
            Level::Info => pgrx::log!("plugin {plugin}: {message}"),
            Level::Notice => pgrx::notice!("plugin {plugin}: {message}"),
            Level::Warning => pgrx::warning!("plugin {plugin}: {message}"),
        }
    }
    if dropped > 0 {
        pgrx::log!("plugin {plugin}: {dropped} more log messages dropped");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buffer_is_bounded() {
        let mut b = LogBuffer::default();
        for i in 0..MAX_MESSAGES + 5 {
            b.push(Level::Info, format!("m{i}"));
        }
        b.push(Level::Warning, "é".repeat(MAX_MESSAGE_BYTES));
        let (messages, dropped) = b.take();
        assert_eq!(messages.len(), MAX_MESSAGES);
        assert_eq!(dropped, 6);
        assert_eq!(b.take().0.len(), 0);
        let mut b = LogBuffer::default();
        b.push(Level::Warning, "é".repeat(MAX_MESSAGE_BYTES));
        let (messages, _) = b.take();
        assert!(messages[0].1.len() <= MAX_MESSAGE_BYTES + '…'.len_utf8());
    }
}
