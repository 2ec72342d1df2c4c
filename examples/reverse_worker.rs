//! A worker that reverses its workload: `cargo run --example reverse_worker [host:port]`.
//!
//! Registers the function `reverse` and serves jobs until interrupted. The job reports a
//! status of 0/len before answering, so clients can watch it progress.

use gearman::worker::{WorkResult, Worker};

fn main() -> Result<(), gearman::Error> {
    let servers = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:4730".to_string());
    let mut worker = Worker::new()?;
    worker.add_servers(&servers)?;
    worker.add_function("reverse", 0, |ctx| {
        let len = ctx.workload().len() as u32;
        if ctx.send_status(0, len).is_err() {
            return WorkResult::Retry;
        }
        let mut out = ctx.workload().to_vec();
        out.reverse();
        WorkResult::Complete(out)
    })?;
    eprintln!("reverse worker serving {servers}");
    loop {
        if let Err(e) = worker.work() {
            eprintln!("work: {e}");
            if e.code() == gearman::ReturnCode::Shutdown
                || e.code() == gearman::ReturnCode::ShutdownGraceful
            {
                return Ok(());
            }
        }
    }
}
