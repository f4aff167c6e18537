//! Start, serve, reload, stop.

use std::path::{Path, PathBuf};

use signpost_corefile::{parse, parse_file, Error};
use signpost_metrics::registry;
use signpost_plugin::lifecycle::ControlMsg;
use signpost_plugin::Control;
use signpost_server::{build, BuildOptions, Config, ServeOptions, Server};
use tokio::signal::unix::{signal, SignalKind};

use crate::cli::{self, Args};
use crate::logging;
use crate::plugins::PLUGINS;

/// The Corefile used when none is given and `./Corefile` does not exist (CoreDNS's default).
const DEFAULT_COREFILE: &str = ". {\n    whoami\n    log\n}\n";

const VERSION: &str = env!("CARGO_PKG_VERSION");

fn version_text() -> String {
    format!(
        "signpost-{VERSION}\n{}/{}, rust, {}",
        std::env::consts::OS,
        std::env::consts::ARCH,
        option_env!("SIGNPOST_REVISION").unwrap_or("unknown")
    )
}

fn plugins_text() -> String {
    let mut names: Vec<&str> = PLUGINS.iter().map(|p| p.name).collect();
    names.sort_unstable();
    let mut s = String::from(
        "Server types:\n  dns\n\nCaddyfile loaders:\n  flag\n  default\n\nOther plugins:\n",
    );
    for n in names {
        s.push_str("  dns.");
        s.push_str(n);
        s.push('\n');
    }
    s
}

/// Read, parse and build a Corefile. `None` for `path` uses the default Corefile.
pub fn build_corefile(path: Option<&Path>, dns_port: u16) -> Result<Config, Vec<Error>> {
    let blocks = match path {
        Some(p) => parse_file(p).map_err(|e| vec![e])?,
        None => parse("Corefile", DEFAULT_COREFILE).map_err(|e| vec![e])?,
    };
    build(
        &blocks,
        &BuildOptions {
            plugins: PLUGINS,
            default_port: dns_port,
            corefile: path.map(Path::to_path_buf),
            listen_override: None,
        },
    )
}

fn corefile_path(args: &Args) -> Option<PathBuf> {
    // CoreDNS falls back to its built-in default only when the default file is absent.
    if args.conf == Path::new("Corefile") && !args.conf.exists() {
        None
    } else {
        Some(args.conf.clone())
    }
}

fn print_errors(errors: &[Error]) {
    for e in errors {
        eprintln!("{e}");
    }
}

/// Run with these command-line arguments; returns the exit code.
pub fn main(raw: &[String]) -> i32 {
    let args = match cli::parse(raw) {
        Ok(a) => a,
        Err(e) => {
            if !e.is_empty() {
                eprintln!("{e}");
            }
            eprintln!("{}", cli::USAGE);
            return 2;
        }
    };
    if args.version {
        println!("{}", version_text());
        return 0;
    }
    if args.plugins {
        print!("{}", plugins_text());
        return 0;
    }
    logging::init();
    let path = corefile_path(&args);
    if args.validate {
        return match build_corefile(path.as_deref(), args.dns_port) {
            Ok(_) => {
                println!("Corefile is valid");
                0
            }
            Err(errs) => {
                print_errors(&errs);
                1
            }
        };
    }
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("signpost")
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("cannot start the runtime: {e}");
            return 1;
        }
    };
    rt.block_on(serve(args, path))
}

async fn serve(args: Args, path: Option<PathBuf>) -> i32 {
    let config = match build_corefile(path.as_deref(), args.dns_port) {
        Ok(c) => c,
        Err(errs) => {
            print_errors(&errs);
            return 1;
        }
    };
    let banner: Vec<String> = config
        .listeners
        .iter()
        .flat_map(|l| {
            l.router
                .routes()
                .iter()
                .map(|r| format!("{}:{}", r.info.zone_text, r.info.port))
                .collect::<Vec<_>>()
        })
        .collect();
    // Signals are trapped before the start, which may wait for Kubernetes data: a reload or
    // stop sent meanwhile is handled once serving, never fatal.
    let (Ok(mut term), Ok(mut int), Ok(mut usr1)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
        signal(SignalKind::user_defined1()),
    ) else {
        eprintln!("cannot install signal handlers");
        return 1;
    };
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let control = Control::new(tx);
    let mut server = match Server::start(config, ServeOptions::default(), control).await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("{e}");
            return 1;
        }
    };
    if !args.quiet {
        for b in banner {
            println!("{b}");
        }
        println!("{}", version_text());
    }
    if let Some(p) = &args.pidfile {
        if let Err(e) = std::fs::write(p, format!("{}\n", std::process::id())) {
            eprintln!("Could not write pidfile: {e}");
            return 1;
        }
    }
    let reload_failed = registry().counter(
        "coredns_reload_failed_total",
        "Counter of the number of failed reload attempts.",
    );
    loop {
        let reload = tokio::select! {
            _ = term.recv() => break,
            _ = int.recv() => break,
            _ = usr1.recv() => true,
            msg = rx.recv() => match msg {
                Some(ControlMsg::Reload(_)) => true,
                Some(ControlMsg::Fatal(why)) => {
                    // CoreDNS logs these with log.Fatal: "[FATAL] plugin/loop: ...".
                    println!("[FATAL] {why}");
                    if let Some(p) = &args.pidfile {
                        let _ = std::fs::remove_file(p);
                    }
                    std::process::exit(1);
                }
                None => false,
            },
        };
        if reload {
            tracing::info!("Reloading");
            let result = match build_corefile(path.as_deref(), args.dns_port) {
                Ok(config) => server.reload(config).await,
                Err(errs) => Err(errs
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join("; ")),
            };
            match result {
                Ok(()) => tracing::info!("Reloading complete"),
                Err(e) => {
                    reload_failed.inc();
                    tracing::error!("Corefile changed but reload failed: {e}");
                }
            }
        }
    }
    server.shutdown().await;
    if let Some(p) = &args.pidfile {
        let _ = std::fs::remove_file(p);
    }
    0
}
