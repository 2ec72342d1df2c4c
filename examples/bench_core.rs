//! Throughput probe of the Rust core, with the same modes as the project's C benchmark:
//! `cargo run --release --example bench_core -- PORT MODE N [SIZE]`, MODE one of
//! `worker` (N jobs then exit, 0 = forever), `do`, `bg`, `tasks`. Function `gbench_echo`.

use gearman::client::{Priority, Request};
use gearman::worker::{WorkResult, Worker};
use gearman::{Client, Error};
use std::time::Instant;

fn main() -> Result<(), Error> {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 4 {
        eprintln!("usage: bench_core PORT MODE N [SIZE]");
        std::process::exit(2);
    }
    let port: u16 = args[1].parse().unwrap_or(4730);
    let mode = args[2].as_str();
    let n: u64 = args[3].parse().unwrap_or(1000);
    let size: usize = args.get(4).and_then(|s| s.parse().ok()).unwrap_or(16);
    let payload: Vec<u8> = (0..size).map(|i| b'a' + (i % 26) as u8).collect();

    if mode == "worker" {
        let mut w = Worker::new()?;
        w.add_server("127.0.0.1", port)?;
        w.add_function("gbench_echo", 0, |ctx| {
            WorkResult::Complete(ctx.workload().to_vec())
        })?;
        let mut done = 0u64;
        let mut t0 = Instant::now();
        while n == 0 || done < n {
            w.work()?;
            if done == 0 {
                t0 = Instant::now();
            }
            done += 1;
        }
        let dt = t0.elapsed().as_secs_f64();
        println!(
            "worker {done} jobs {dt:.3} s {:.2} jobs/s",
            (done.saturating_sub(1)) as f64 / dt
        );
        return Ok(());
    }

    let mut c = Client::new();
    c.add_server("127.0.0.1", port)?;
    let t0 = Instant::now();
    match mode {
        "do" => {
            for _ in 0..n {
                let r = c.do_job("gbench_echo", &payload)?;
                assert_eq!(r, payload, "bad echo");
            }
        }
        "bg" => {
            for _ in 0..n {
                c.submit_background(Priority::Normal, b"gbench_echo", None, &payload)?;
            }
        }
        "tasks" => {
            let job = Request::Job {
                priority: Priority::Normal,
                background: false,
            };
            let mut done = 0;
            while done < n {
                let batch = (n - done).min(1000);
                for _ in 0..batch {
                    c.add_task(job.clone(), b"gbench_echo", None, &payload)?;
                }
                c.run_tasks(|_, _| gearman::ReturnCode::Success)?;
                c.free_all_tasks();
                done += batch;
            }
        }
        other => {
            eprintln!("unknown mode {other}");
            std::process::exit(2);
        }
    }
    let dt = t0.elapsed().as_secs_f64();
    println!(
        "{mode} n={n} size={size} {dt:.3} s {:.2} ops/s {:.1} us/op",
        n as f64 / dt,
        dt * 1e6 / n as f64
    );
    Ok(())
}
