//! `tern-test-server`: the demo LwM2M server.
//!
//! ```text
//! tern-test-server [--ipv6] [--port N] [--scenario demo|serve] [--endpoint EP] [--timeout S]
//! ```
//! Binds 127.0.0.1, or [::1] with `--ipv6` (port 0 by default), prints `LISTENING <port>`, then runs
//! the scenario. `serve` logs every event until killed or until the timeout;
//! `demo` walks a client through the device management basics and exits 0 on
//! success, 1 on the first failure.

use std::io::Write;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use tern_test_server::{tlv, Config, Event, Registration, Response, TestServer, CF_TEXT, CF_TLV};

const USAGE: &str = "usage: tern-test-server [--ipv6] [--port N] [--scenario demo|serve] [--endpoint EP] [--timeout S]";

struct Args {
    ipv6: bool,
    port: u16,
    scenario: String,
    endpoint: Option<String>,
    timeout: Option<Duration>,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        ipv6: false,
        port: 0,
        scenario: "demo".into(),
        endpoint: None,
        timeout: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        let mut value = |name: &str| it.next().ok_or_else(|| format!("{name} needs a value"));
        match a.as_str() {
            "--ipv6" => args.ipv6 = true,
            "--port" => {
                args.port = value("--port")?
                    .parse()
                    .map_err(|e| format!("--port: {e}"))?
            }
            "--scenario" => args.scenario = value("--scenario")?,
            "--endpoint" => args.endpoint = Some(value("--endpoint")?),
            "--timeout" => {
                let s: f64 = value("--timeout")?
                    .parse()
                    .map_err(|e| format!("--timeout: {e}"))?;
                if !(s.is_finite() && s > 0.0) {
                    return Err("--timeout must be a positive number of seconds".into());
                }
                args.timeout = Some(Duration::from_secs_f64(s));
            }
            "-h" | "--help" => {
                println!("{USAGE}");
                std::process::exit(0);
            }
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    if args.scenario != "demo" && args.scenario != "serve" {
        return Err(format!("unknown scenario {:?}", args.scenario));
    }
    Ok(args)
}

fn say(line: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "server: {line}");
    let _ = out.flush();
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("tern-test-server: {e}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let ip = if args.ipv6 {
        IpAddr::from(Ipv6Addr::LOCALHOST)
    } else {
        IpAddr::from(Ipv4Addr::LOCALHOST)
    };
    let addr = SocketAddr::new(ip, args.port);
    let server = match TestServer::start_with(addr, Config::default()) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("tern-test-server: cannot bind {addr}: {e}");
            return ExitCode::from(2);
        }
    };
    {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "LISTENING {}", server.port());
        let _ = out.flush();
    }
    match args.scenario.as_str() {
        "serve" => {
            serve(&server, args.timeout);
            ExitCode::SUCCESS
        }
        _ => match demo(
            &server,
            args.endpoint.as_deref(),
            args.timeout.unwrap_or(Duration::from_secs(60)),
        ) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                say(&format!("FAIL {e}"));
                ExitCode::from(1)
            }
        },
    }
}

fn serve(server: &TestServer, timeout: Option<Duration>) {
    let deadline = timeout.map(|t| Instant::now() + t);
    loop {
        let wait = match deadline {
            Some(d) => {
                let now = Instant::now();
                if now >= d {
                    return;
                }
                (d - now).min(Duration::from_secs(1))
            }
            None => Duration::from_secs(1),
        };
        if let Some(e) = server.wait_event(wait) {
            say(&e.summary());
        }
    }
}

/// What the demo needs to finish within.
struct Budget(Instant);

impl Budget {
    fn left(&self) -> Result<Duration, String> {
        let now = Instant::now();
        if now >= self.0 {
            Err("out of time".into())
        } else {
            Ok(self.0 - now)
        }
    }
    /// Per-request bound: the rest of the budget, at most 30 s.
    fn op(&self) -> Result<Duration, String> {
        Ok(self.left()?.min(Duration::from_secs(30)))
    }
}

fn op_result(
    what: &str,
    r: Result<Response, tern_test_server::OpError>,
) -> Result<Response, String> {
    r.map_err(|e| format!("{what}: {e}"))
}

fn demo(server: &TestServer, endpoint: Option<&str>, timeout: Duration) -> Result<(), String> {
    let budget = Budget(Instant::now() + timeout);
    let want = |e: &Event| match e {
        Event::Registered(r) => !matches!(endpoint, Some(ep) if r.ep != ep),
        _ => false,
    };
    let reg: Registration = match server.wait_for(budget.left()?, want) {
        Some(Event::Registered(r)) => r,
        _ => return Err("no registration before the timeout".into()),
    };
    let ep = reg.ep.clone();
    say(&format!(
        "registered ep={} lt={} b={} lwm2m={} objects={}",
        reg.ep,
        reg.lifetime,
        reg.binding,
        reg.lwm2m,
        reg.objects.join(",")
    ));

    // Read /3/0/0 as text/plain.
    let r = op_result(
        "read /3/0/0",
        server.read(&ep, "/3/0/0", Some(CF_TEXT), budget.op()?),
    )?;
    say(&format!(
        "read /3/0/0 -> {} {:?}",
        r.code_string(),
        r.payload_str()
    ));
    if !r.is_success() {
        return Err(format!("read /3/0/0 answered {}", r.code_string()));
    }

    // Read /3/0 as TLV.
    let r = op_result(
        "read /3/0",
        server.read(&ep, "/3/0", Some(CF_TLV), budget.op()?),
    )?;
    if !r.is_success() {
        say(&format!("read /3/0 (TLV) -> {}", r.code_string()));
        return Err(format!("read /3/0 answered {}", r.code_string()));
    }
    if r.content_format != Some(CF_TLV) {
        return Err(format!(
            "read /3/0 came back as content format {:?}, not TLV",
            r.content_format
        ));
    }
    match tlv::decode(&r.payload) {
        Ok(tlvs) => say(&format!(
            "read /3/0 (TLV) -> {} {} resources: {}",
            r.code_string(),
            tlvs.len(),
            tlv::summary(&tlvs, &tlv::device_resource_is_text)
        )),
        Err(e) => return Err(format!("read /3/0: {e}")),
    }

    // Discover /3/0.
    let r = op_result("discover /3/0", server.discover(&ep, "/3/0", budget.op()?))?;
    say(&format!(
        "discover /3/0 -> {} {}",
        r.code_string(),
        r.payload_str()
    ));
    if !r.is_success() {
        return Err(format!("discover /3/0 answered {}", r.code_string()));
    }

    // Write the lifetime with the value it already has.
    let lt = reg.lifetime.to_string();
    let r = op_result(
        "write /1/0/1",
        server.write(&ep, "/1/0/1", CF_TEXT, lt.as_bytes(), true, budget.op()?),
    )?;
    say(&format!("write /1/0/1 = {lt} -> {}", r.code_string()));
    if !r.is_success() {
        return Err(format!("write /1/0/1 answered {}", r.code_string()));
    }

    // Registration Update Trigger.
    let r = op_result(
        "execute /1/0/8",
        server.execute(&ep, "/1/0/8", b"", budget.op()?),
    )?;
    say(&format!("execute /1/0/8 -> {}", r.code_string()));
    if !r.is_success() {
        return Err(format!("execute /1/0/8 answered {}", r.code_string()));
    }

    match server.wait_for(
        budget.left()?,
        |e| matches!(e, Event::Updated { ep: u, .. } if *u == ep),
    ) {
        Some(e @ Event::Updated { .. }) => say(&e.summary()),
        _ => return Err("no update before the timeout".into()),
    }
    match server.wait_for(
        budget.left()?,
        |e| matches!(e, Event::Deregistered { ep: u } if *u == ep),
    ) {
        Some(_) => say(&format!("deregistered ep={ep}")),
        None => return Err("no de-register before the timeout".into()),
    }
    Ok(())
}
