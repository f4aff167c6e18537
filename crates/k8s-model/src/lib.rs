//! The Kubernetes objects as DNS needs them, and how watches hand them to indexes.
//!
//! ```text
//!  API server / manifests ──watch──▶ JSON ──reduce──▶ slim object (this crate)
//!                                                        │
//!                         one watch per (cluster, kind, selectors)
//!                                                        │ fan-out
//!                                   ┌────────────────────┼───────────────────┐
//!                                   ▼                    ▼                   ▼
//!                        kubernetes index       k8s_gateway index     k8s_external ...
//!                        (Subscriber<T>)        (Subscriber<T>)
//! ```
//!
//! Objects are reduced to these structs the moment they arrive; full API objects are never
//! kept. Every field an answer needs is here and nothing else. Strings that repeat across
//! objects (namespaces, label keys, protocols) are shared through [`shared`]. Strings that
//! come from the API are kept as given; validation (bad IPs, overlong names) happens when an
//! index builds its records, where a broken object can be skipped with a warning without
//! touching the others.

mod gateway;
mod objects;
mod strings;
mod subscriber;

pub use gateway::{
    DnsEndpoint, DnsRecord, Gateway, GatewayAddress, GrpcRoute, HttpRoute, Ingress, Node,
    NodeAddress, ParentRef, Route, TlsRoute, IGNORE_LABEL,
};
pub use objects::{
    Endpoint, EndpointSlice, Kind, LoadBalancerIngress, Namespace, ObjectKey, Pod, Port, Service,
    ServiceImport, ServiceType,
};
pub use strings::{empty, shared, sweep_shared, Labels};
pub use subscriber::{Event, ListSource, Listing, Subscriber};
