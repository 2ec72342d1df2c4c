//! Sends its argument to the `reverse` function and prints the answer:
//! `cargo run --example reverse_client -- "hello world" [host:port]`.

use gearman::Client;

fn main() -> Result<(), gearman::Error> {
    let mut args = std::env::args().skip(1);
    let text = args.next().unwrap_or_else(|| "hello world".to_string());
    let servers = args.next().unwrap_or_else(|| "127.0.0.1:4730".to_string());
    let mut client = Client::new();
    client.add_servers(&servers)?;
    let reversed = client.do_job("reverse", text.as_bytes())?;
    println!("{}", String::from_utf8_lossy(&reversed));
    Ok(())
}
