//! `k8s_gateway [ZONES...] { resources, ingressClasses, gatewayClasses, serviceLabelSelectors,
//! ttl, apex, secondary, kubeconfig, fallthrough, nodeAddressType }` plus the watch layer's
//! connection lines, read as upstream reads them (spec §2).

use signpost_kube::selector::LabelSelector;
use signpost_kube::Connection;
use signpost_plugin::{origins_from_args_or_block, ttl_option};
use signpost_plugin::{CorefileError, Directive, Dispenser, Fallthrough};
use signpost_wire::Name;

/// A kind of object that gives names; the `resources` order is the lookup priority.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Resource {
    Ingress,
    Service,
    HttpRoute,
    TlsRoute,
    GrpcRoute,
    DnsEndpoint,
    Node,
}

impl Resource {
    /// The name written in `resources` (case-sensitive, as upstream).
    fn from_name(s: &str) -> Option<Resource> {
        Some(match s {
            "Ingress" => Resource::Ingress,
            "Service" => Resource::Service,
            "HTTPRoute" => Resource::HttpRoute,
            "TLSRoute" => Resource::TlsRoute,
            "GRPCRoute" => Resource::GrpcRoute,
            "DNSEndpoint" => Resource::DnsEndpoint,
            "Node" => Resource::Node,
            _ => return None,
        })
    }

    pub(crate) fn is_route(self) -> bool {
        matches!(
            self,
            Resource::HttpRoute | Resource::TlsRoute | Resource::GrpcRoute
        )
    }
}

/// Where the NS host name lives: relative to every zone (upstream) or one absolute name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Host {
    /// `dns1.kube-system`: `<apex>.<zone>` in each zone, looked up by the key `<apex>`.
    Relative(Name),
    /// `ns1.example.net.`: that name in every zone, looked up by itself.
    Absolute(Name),
}

impl Host {
    fn parse(text: &str) -> Option<Host> {
        let name = Name::from_text(text)
            .ok()
            .filter(|n| !n.is_root())?
            .lowercase();
        Some(if text.ends_with('.') {
            Host::Absolute(name)
        } else {
            Host::Relative(name)
        })
    }

    /// The host's name in `zone`.
    pub(crate) fn in_zone(&self, zone: &Name) -> Option<Name> {
        match self {
            Host::Relative(n) => n.concat(zone).ok(),
            Host::Absolute(n) => Some(*n),
        }
    }

    /// The index key its addresses are found under.
    pub(crate) fn key(&self) -> &Name {
        match self {
            Host::Relative(n) | Host::Absolute(n) => n,
        }
    }
}

/// Node address type to serve.
pub(crate) const NODE_TYPES: [&str; 2] = ["InternalIP", "ExternalIP"];

/// Everything the directive says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Config {
    /// Zones in the order given (forward and reverse).
    pub(crate) zones: Vec<Name>,
    /// Lookup order.
    pub(crate) resources: Vec<Resource>,
    pub(crate) ingress_classes: Option<Vec<String>>,
    pub(crate) gateway_classes: Option<Vec<String>>,
    /// Canonical label selectors; empty means one watch of all Services.
    pub(crate) service_selectors: Vec<String>,
    pub(crate) ttl: u32,
    pub(crate) apex: Host,
    pub(crate) secondary: Option<Host>,
    pub(crate) fall: Fallthrough,
    pub(crate) node_address_type: String,
    pub(crate) connection: Connection,
}

/// Upstream's default resources when `resources` is never given.
const DEFAULT_RESOURCES: [Resource; 2] = [Resource::Ingress, Resource::Service];

pub(crate) fn parse(directives: &[Directive], block: &[Name]) -> Result<Config, CorefileError> {
    let mut c = Config {
        zones: Vec::new(),
        resources: DEFAULT_RESOURCES.to_vec(),
        ingress_classes: None,
        gateway_classes: None,
        service_selectors: Vec::new(),
        ttl: 60,
        apex: Host::parse("dns1.kube-system").unwrap_or(Host::Relative(Name::root())),
        secondary: None,
        fall: Fallthrough::default(),
        node_address_type: NODE_TYPES[0].to_string(),
        connection: Connection::default(),
    };
    let mut resources_given = false;
    for directive in directives {
        let mut d = Dispenser::new(directive);
        d.next();
        let args = d.remaining_args();
        c.zones = origins_from_args_or_block(&args, block);
        while d.next_block() {
            if c.connection.parse_line(&mut d)? {
                continue;
            }
            match d.val() {
                "resources" => {
                    let args = d.remaining_args();
                    if args.is_empty() {
                        return Err(d.err("Incorrectly formatted 'resource' parameter"));
                    }
                    resources_given = true;
                    c.resources.clear();
                    for a in &args {
                        match Resource::from_name(a) {
                            Some(r) if !c.resources.contains(&r) => c.resources.push(r),
                            Some(_) => {}
                            None => tracing::warn!(
                                "plugin/k8s_gateway: resource not found in static resources: {a}"
                            ),
                        }
                    }
                }
                "ingressClasses" => {
                    let args = d.remaining_args();
                    if args.is_empty() {
                        return Err(d.err("Incorrectly formatted 'ingressClasses' parameter"));
                    }
                    c.ingress_classes = Some(args);
                }
                "gatewayClasses" => {
                    let args = d.remaining_args();
                    if args.is_empty() {
                        return Err(d.err("Incorrectly formatted 'gatewayClasses' parameter"));
                    }
                    c.gateway_classes = Some(args);
                }
                "serviceLabelSelectors" => {
                    let args = d.remaining_args();
                    if args.is_empty() {
                        return Err(d.err(
                            "serviceLabelSelectors requires at least one argument (a label selector)",
                        ));
                    }
                    for a in args {
                        if a.trim().is_empty() {
                            return Err(
                                d.err("serviceLabelSelectors does not accept empty strings")
                            );
                        }
                        let sel = LabelSelector::parse(&a).map_err(|e| {
                            d.err(format!("invalid serviceLabelSelectors {a:?}: {e}"))
                        })?;
                        let canonical = sel.to_string();
                        if !c.service_selectors.contains(&canonical) {
                            c.service_selectors.push(canonical);
                        }
                    }
                }
                "ttl" => c.ttl = ttl_option(&mut d)?,
                "apex" => {
                    let args = d.remaining_args();
                    let first = args.first().ok_or_else(|| d.arg_err())?;
                    c.apex = Host::parse(first)
                        .ok_or_else(|| d.err(format!("invalid apex '{first}'")))?;
                }
                "secondary" => {
                    let args = d.remaining_args();
                    let first = args.first().ok_or_else(|| d.arg_err())?;
                    c.secondary = Some(
                        Host::parse(first)
                            .ok_or_else(|| d.err(format!("invalid secondary '{first}'")))?,
                    );
                }
                "fallthrough" => c.fall = Fallthrough::parse(&mut d)?,
                "nodeAddressType" => {
                    let args = d.remaining_args();
                    let [t] = args.as_slice() else {
                        return Err(d.arg_err());
                    };
                    if !NODE_TYPES.contains(&t.as_str()) {
                        return Err(d.err(format!(
                            "nodeAddressType must be 'InternalIP' or 'ExternalIP', got: {t}"
                        )));
                    }
                    c.node_address_type = t.clone();
                }
                other => return Err(d.err(format!("Unknown property '{other}'"))),
            }
        }
    }
    if !resources_given {
        tracing::warn!(
            "plugin/k8s_gateway: no resources configured, defaulting to Ingress and Service"
        );
    }
    Ok(c)
}

/// True for a zone under `in-addr.arpa.` or `ip6.arpa.`.
pub(crate) fn is_reverse(zone: &Name) -> bool {
    let v4 = Name::from_text("in-addr.arpa.").unwrap_or_default();
    let v6 = Name::from_text("ip6.arpa.").unwrap_or_default();
    zone.is_subdomain_of(&v4) || zone.is_subdomain_of(&v6)
}
