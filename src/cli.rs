//! CoreDNS's command line, flag for flag, so a Deployment switches by image alone:
//! `-conf FILE`, `-dns.port PORT`, `-plugins`, `-version`, `-quiet`, `-pidfile FILE`, plus
//! `-validate`. Go's flag syntax: one or two dashes, `-flag value` or `-flag=value`.

use std::path::PathBuf;

/// Parsed flags.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Args {
    pub(crate) conf: PathBuf,
    pub(crate) dns_port: u16,
    pub(crate) plugins: bool,
    pub(crate) version: bool,
    pub(crate) quiet: bool,
    pub(crate) pidfile: Option<PathBuf>,
    pub(crate) validate: bool,
}

impl Default for Args {
    fn default() -> Self {
        Args {
            conf: PathBuf::from("Corefile"),
            dns_port: 53,
            plugins: false,
            version: false,
            quiet: false,
            pidfile: None,
            validate: false,
        }
    }
}

pub(crate) const USAGE: &str = "Usage of signpost:
  -conf string
    \tCorefile to load (default \"Corefile\")
  -dns.port string
    \tDefault port (default \"53\")
  -pidfile string
    \tPath to write pid file
  -plugins
    \tList installed plugins
  -quiet
    \tQuiet mode (no initialization output)
  -validate
    \tParse and build the configuration, print every error, do not serve
  -version
    \tShow version";

fn parse_bool(name: &str, v: Option<&str>) -> Result<bool, String> {
    match v {
        None | Some("true") | Some("1") | Some("t") | Some("T") | Some("TRUE") | Some("True") => {
            Ok(true)
        }
        Some("false") | Some("0") | Some("f") | Some("F") | Some("FALSE") | Some("False") => {
            Ok(false)
        }
        Some(x) => Err(format!(
            "invalid boolean value \"{x}\" for -{name}: parse error"
        )),
    }
}

/// Parse the arguments after the program name.
pub(crate) fn parse(args: &[String]) -> Result<Args, String> {
    let mut out = Args::default();
    let mut i = 0;
    while i < args.len() {
        let arg = &args[i];
        i += 1;
        if arg == "--" || !arg.starts_with('-') || arg == "-" {
            break;
        }
        let body = arg.trim_start_matches('-');
        let (name, inline) = match body.split_once('=') {
            Some((n, v)) => (n, Some(v)),
            None => (body, None),
        };
        let mut value = |name: &str| -> Result<String, String> {
            if let Some(v) = inline {
                return Ok(v.to_string());
            }
            let v = args
                .get(i)
                .ok_or_else(|| format!("flag needs an argument: -{name}"))?;
            i += 1;
            Ok(v.clone())
        };
        match name {
            "conf" => out.conf = PathBuf::from(value(name)?),
            "dns.port" => {
                let v = value(name)?;
                out.dns_port = v
                    .parse()
                    .map_err(|_| format!("invalid value \"{v}\" for flag -dns.port: not a port"))?;
            }
            "pidfile" => out.pidfile = Some(PathBuf::from(value(name)?)),
            "plugins" => out.plugins = parse_bool(name, inline)?,
            "version" => out.version = parse_bool(name, inline)?,
            "quiet" => out.quiet = parse_bool(name, inline)?,
            "validate" => out.validate = parse_bool(name, inline)?,
            "h" | "help" => return Err(String::new()),
            other => return Err(format!("flag provided but not defined: -{other}")),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(a: &[&str]) -> Result<Args, String> {
        parse(&a.iter().map(|s| s.to_string()).collect::<Vec<_>>())
    }

    #[test]
    fn coredns_flags() {
        let a = p(&[
            "-conf",
            "/etc/coredns/Corefile",
            "-dns.port=1053",
            "--quiet",
        ])
        .unwrap();
        assert_eq!(a.conf, PathBuf::from("/etc/coredns/Corefile"));
        assert_eq!(a.dns_port, 1053);
        assert!(a.quiet);
        assert!(p(&["--plugins"]).unwrap().plugins);
        assert!(p(&["-validate", "-conf=x"]).unwrap().validate);
        assert_eq!(
            p(&["-pidfile", "/run/p"]).unwrap().pidfile,
            Some("/run/p".into())
        );
        assert_eq!(
            p(&["-bogus"]).unwrap_err(),
            "flag provided but not defined: -bogus"
        );
        assert_eq!(p(&["-conf"]).unwrap_err(), "flag needs an argument: -conf");
        assert!(p(&["-dns.port", "x"]).is_err());
        assert!(!p(&["-quiet=false"]).unwrap().quiet);
    }
}
