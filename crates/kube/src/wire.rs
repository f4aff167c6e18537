//! The type the kube watcher deserializes objects into.
//!
//! Deserializing full API objects would build every field of every object (a Pod's
//! containers, all managed fields) only to throw them away. [`Wire`] keeps, while parsing, a
//! slim `metadata` and the few top-level fields the kind's conversion reads, skipping the
//! rest without building it. Kept fields stay JSON values, so an object with a field of an
//! unexpected type still parses (and is then skipped alone by its conversion) instead of
//! failing the whole list page it came in.

use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::core::DynamicResourceScope;
use kube::Resource;
use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde::Deserialize;
use serde_json::{Map, Value};

use crate::convert::{Watchable, KEPT_ANNOTATIONS};

/// `metadata` fields kept on arrival.
const KEPT_META: &[&str] = &[
    "name",
    "namespace",
    "labels",
    "annotations",
    "resourceVersion",
    "deletionTimestamp",
];

/// One object of kind `T` as received: the kept fields as JSON, plus the `metadata` kube
/// needs to resume watches (resource version).
pub(crate) struct Wire<T> {
    meta: ObjectMeta,
    /// `{"metadata": {...kept...}, FIELD: ..., ...}`.
    pub(crate) object: Value,
    kind: PhantomData<fn() -> T>,
}

impl<T> Clone for Wire<T> {
    fn clone(&self) -> Self {
        Wire {
            meta: self.meta.clone(),
            object: self.object.clone(),
            kind: PhantomData,
        }
    }
}

impl<T> fmt::Debug for Wire<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Wire")
            .field("object", &self.object)
            .finish()
    }
}

impl<T: Watchable> Resource for Wire<T> {
    type DynamicType = ();
    type Scope = DynamicResourceScope;

    fn kind(_: &()) -> Cow<'_, str> {
        Cow::Borrowed(T::KIND_NAME)
    }
    fn group(_: &()) -> Cow<'_, str> {
        Cow::Borrowed(T::GROUP)
    }
    fn version(_: &()) -> Cow<'_, str> {
        Cow::Borrowed(T::VERSION)
    }
    fn api_version(_: &()) -> Cow<'_, str> {
        Cow::Borrowed(T::API_VERSION)
    }
    fn plural(_: &()) -> Cow<'_, str> {
        Cow::Borrowed(T::PLURAL)
    }
    fn meta(&self) -> &ObjectMeta {
        &self.meta
    }
    fn meta_mut(&mut self) -> &mut ObjectMeta {
        &mut self.meta
    }
}

/// Which keys of a JSON map to keep.
#[derive(Clone, Copy)]
enum Keep {
    /// Top level of an object of a kind with these fields.
    Object(&'static [&'static str]),
    /// `metadata`.
    Meta,
    /// `metadata.annotations`.
    Annotations,
}

impl Keep {
    fn keeps(self, key: &str) -> bool {
        match self {
            Keep::Object(fields) => fields.contains(&key),
            Keep::Meta => KEPT_META.contains(&key),
            Keep::Annotations => KEPT_ANNOTATIONS.contains(&key),
        }
    }
}

/// Deserializes a map into a JSON object holding only the kept keys.
struct Filtered(Keep);

impl<'de> DeserializeSeed<'de> for Filtered {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Filtered {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut out = Map::new();
        while let Some(key) = map.next_key::<Cow<'de, str>>()? {
            let value = match (self.0, &*key) {
                (Keep::Object(_), "metadata") => map.next_value_seed(Filtered(Keep::Meta))?,
                (Keep::Meta, "annotations") => map.next_value_seed(Filtered(Keep::Annotations))?,
                (keep, k) if keep.keeps(k) => map.next_value::<Value>()?,
                _ => {
                    map.next_value::<IgnoredAny>()?;
                    continue;
                }
            };
            out.insert(key.into_owned(), value);
        }
        Ok(Value::Object(out))
    }

    // Anything but a map (null annotations, a broken metadata) is kept as is for the
    // conversion to judge.
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut out = Vec::new();
        while let Some(v) = seq.next_element::<Value>()? {
            out.push(v);
        }
        Ok(Value::Array(out))
    }
}

impl<'de, T: Watchable> Deserialize<'de> for Wire<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let object = Filtered(Keep::Object(T::FIELDS)).deserialize(d)?;
        let text = |k: &str| {
            object
                .get("metadata")
                .and_then(|m| m.get(k))
                .and_then(Value::as_str)
                .map(str::to_string)
        };
        let meta = ObjectMeta {
            name: text("name"),
            namespace: text("namespace"),
            resource_version: text("resourceVersion"),
            ..ObjectMeta::default()
        };
        Ok(Wire {
            meta,
            object,
            kind: PhantomData,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use signpost_k8s_model::{Pod, Service};

    #[test]
    fn keeps_only_what_conversion_reads() {
        let text = r#"{
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {
                "name": "p", "namespace": "ns", "resourceVersion": "42", "uid": "u",
                "labels": {"a": "b"},
                "annotations": {"coredns.io/hostname": "x", "kubectl.kubernetes.io/last-applied-configuration": "{...}"},
                "managedFields": [{"manager": "kubectl", "fieldsV1": {"f:spec": {}}}]
            },
            "spec": {"containers": [{"name": "c", "image": "i"}]},
            "status": {"phase": "Running", "podIP": "10.0.0.1"}
        }"#;
        let w: Wire<Pod> = serde_json::from_str(text).unwrap();
        assert_eq!(w.meta().resource_version.as_deref(), Some("42"));
        assert_eq!(w.meta().name.as_deref(), Some("p"));
        assert_eq!(
            w.object,
            serde_json::json!({
                "metadata": {
                    "name": "p", "namespace": "ns", "resourceVersion": "42",
                    "labels": {"a": "b"},
                    "annotations": {"coredns.io/hostname": "x"}
                },
                "status": {"phase": "Running", "podIP": "10.0.0.1"}
            })
        );
    }

    #[test]
    fn odd_shapes_parse_and_are_left_to_conversion() {
        let w: Wire<Service> =
            serde_json::from_str(r#"{"metadata": {"name": 5, "annotations": null}, "spec": 7}"#)
                .unwrap();
        assert_eq!(w.meta().name, None);
        assert!(Service::from_json(&w.object).is_err());
        let w: Wire<Service> = serde_json::from_str(r#"{"metadata": [1, 2]}"#).unwrap();
        assert!(Service::from_json(&w.object).is_err());
    }

    #[test]
    fn list_of_wires() {
        let text = r#"{"kind": "ServiceList", "metadata": {"resourceVersion": "9"},
            "items": [{"metadata": {"name": "a", "namespace": "x"}, "spec": {"clusterIP": "10.0.0.1"}}]}"#;
        let list: kube::core::ObjectList<Wire<Service>> = serde_json::from_str(text).unwrap();
        assert_eq!(list.items.len(), 1);
        let svc = Service::from_json(&list.items[0].object).unwrap();
        assert_eq!(&*svc.cluster_ips[0], "10.0.0.1");
    }
}
