//! The committed event contracts under `contracts/`: they are exactly what the generator produces
//! from the domain's catalog, every example satisfies its schema (and broken payloads do not),
//! the AsyncAPI document is complete, and the envelope the relay writes satisfies it.
//!
//! Regenerate with `CC_UPDATE_CONTRACTS=1 cargo test -p contracts`.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

use chrono::Utc;
use contracts::{ASYNCAPI_FILE, SCHEMA_DIR};
use domain::{Aggregate, DomainEvent, EventTypeInfo, Product, ProductEvent, User, UserEvent};
use kafka::{Topics, envelope::Outgoing};
use rdkafka::message::Headers;
use serde_json::{Map, Value, json};
use uuid::Uuid;

/// The CloudEvents attributes a consumer cannot do without: identity, type, order and origin.
const ESSENTIAL_HEADERS: [&str; 7] = [
    "ce_id",
    "ce_type",
    "ce_subject",
    "ce_sequence",
    "ce_specversion",
    "ce_time",
    "ce_source",
];

/// The generated files live in this crate's own folder.
fn contracts_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).to_path_buf()
}

fn read_json(path: &Path) -> Value {
    let text =
        fs::read_to_string(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("parsing {}: {e}", path.display()))
}

fn asyncapi_document() -> Value {
    read_json(&contracts_dir().join(ASYNCAPI_FILE))
}

/// Every published type and version: the catalog, and the plaintext versions still on topics.
fn catalog() -> Vec<EventTypeInfo> {
    let mut catalog = UserEvent::catalog();
    catalog.extend(ProductEvent::catalog());
    let plaintext: Vec<EventTypeInfo> = catalog
        .iter()
        .filter_map(contracts::plaintext_info)
        .collect();
    catalog.extend(plaintext);
    catalog
}

/// A validator that also checks `format` (uuid, date-time, uri): draft 2020-12 treats formats
/// as annotations by default, which would let a malformed id through.
fn validator(schema: &Value) -> jsonschema::Validator {
    jsonschema::options()
        .should_validate_formats(true)
        .build(schema)
        .unwrap_or_else(|e| panic!("schema does not compile: {e}\n{schema:#}"))
}

fn errors(validator: &jsonschema::Validator, instance: &Value) -> Vec<String> {
    validator
        .iter_errors(instance)
        .map(|e| e.to_string())
        .collect()
}

/// Schema files on disk that the generator does not produce.
fn stale_schema_files(rendered: &std::collections::BTreeMap<String, String>) -> Vec<String> {
    let Ok(entries) = fs::read_dir(contracts_dir().join(SCHEMA_DIR)) else {
        return Vec::new();
    };
    let mut stale: Vec<String> = entries
        .filter_map(Result::ok)
        .map(|entry| format!("{SCHEMA_DIR}/{}", entry.file_name().to_string_lossy()))
        .filter(|path| !rendered.contains_key(path))
        .collect();
    stale.sort();
    stale
}

/// Writes through a temporary file and a rename, so a test reading the files concurrently
/// never sees half of one.
fn write_atomically(path: &Path, content: &str) {
    let parent = path.parent().expect("contract files live in a folder");
    fs::create_dir_all(parent).expect("creating the contracts folder");
    let temporary = parent.join(".contracts.tmp");
    fs::write(&temporary, content).expect("writing a contract file");
    fs::rename(&temporary, path).expect("moving a contract file into place");
}

#[test]
fn generated_contracts_match_the_committed_files() {
    let dir = contracts_dir();
    let rendered = contracts::render_all();
    if std::env::var("CC_UPDATE_CONTRACTS").is_ok_and(|v| v == "1") {
        for stale in stale_schema_files(&rendered) {
            fs::remove_file(dir.join(&stale)).expect("removing a stale schema");
        }
        for (path, content) in &rendered {
            write_atomically(&dir.join(path), content);
        }
        return;
    }
    let mut problems = Vec::new();
    for (path, content) in &rendered {
        match fs::read_to_string(dir.join(path)) {
            Ok(committed) if committed == *content => {}
            Ok(committed) => {
                let line = committed
                    .lines()
                    .zip(content.lines())
                    .position(|(old, new)| old != new)
                    .unwrap_or_else(|| committed.lines().count().min(content.lines().count()));
                problems.push(format!("{path} differs from line {}", line + 1));
            }
            Err(_) => problems.push(format!("{path} is missing")),
        }
    }
    for stale in stale_schema_files(&rendered) {
        problems.push(format!("{stale} is no longer generated"));
    }
    assert!(
        problems.is_empty(),
        "contracts/ does not match the domain's event catalog:\n  {}\n\
         Regenerate with `CC_UPDATE_CONTRACTS=1 cargo test -p contracts` and review \
         the diff: a schema that changed without a version bump must only have gained fields.",
        problems.join("\n  ")
    );
}

/// Payloads that must not pass: each field the domain requires missing, and each field with a
/// value of the wrong JSON type (`true` fits no field of ours; a bool field would get a number
/// instead). The required list comes from the domain, not the committed file, so a committed
/// schema that quietly stopped requiring a field fails here too.
fn broken_samples(example: &Value, info: &EventTypeInfo) -> Vec<(String, Value)> {
    let object = example.as_object().expect("payloads are objects");
    let generated = (info.published_schema)();
    let required = generated["required"]
        .as_array()
        .expect("schema lists required fields");
    assert!(!required.is_empty(), "a payload without required fields");
    let missing = required.iter().filter_map(Value::as_str).map(|field| {
        let mut broken = object.clone();
        broken.remove(field);
        (format!("without {field}"), Value::Object(broken))
    });
    let retyped = object.iter().map(|(field, value)| {
        let mut broken = object.clone();
        let wrong = if value.is_boolean() {
            json!(0)
        } else {
            json!(true)
        };
        broken.insert(field.clone(), wrong.clone());
        (format!("{field} = {wrong}"), Value::Object(broken))
    });
    missing.chain(retyped).collect()
}

#[test]
fn every_event_type_example_validates_against_its_committed_schema() {
    let current = catalog();
    // The plaintext versions stay published while messages of theirs are on the topics.
    let plaintext: Vec<EventTypeInfo> = current
        .iter()
        .filter_map(contracts::plaintext_info)
        .collect();
    assert_eq!(
        plaintext.len(),
        2,
        "user.registered and user.display_name_changed v1"
    );
    for info in current.into_iter().chain(plaintext) {
        let path = contracts_dir()
            .join(SCHEMA_DIR)
            .join(contracts::schema_file_name(&info));
        let schema = read_json(&path);
        assert_eq!(
            schema["$id"],
            kafka::envelope::dataschema(info.event_type, info.schema_version),
            "{}",
            path.display()
        );
        let validator = validator(&schema);
        let example = (info.published_example)();
        let problems = errors(&validator, &example);
        assert!(
            problems.is_empty(),
            "the example of {} breaks {}: {problems:?}",
            info.event_type,
            path.display()
        );
        for (what, broken) in broken_samples(&example, &info) {
            assert!(
                !validator.is_valid(&broken),
                "{} accepted a {} payload {what}: {broken}",
                path.display(),
                info.event_type
            );
        }
    }
}

/// Resolves a local `$ref` (`#/channels/...`) inside the document.
fn resolve<'a>(document: &'a Value, reference: &Value) -> Option<&'a Value> {
    let pointer = reference["$ref"].as_str()?.strip_prefix('#')?;
    document.pointer(pointer)
}

#[test]
fn every_message_in_the_asyncapi_document_has_a_schema_file_and_headers() {
    let document = asyncapi_document();
    assert_eq!(document["asyncapi"], "3.0.0");
    let channels = document["channels"].as_object().expect("channels");
    let addresses: BTreeSet<&str> = channels
        .values()
        .filter_map(|channel| channel["address"].as_str())
        .collect();
    assert_eq!(
        addresses,
        BTreeSet::from([Topics::DEFAULT_USER, Topics::DEFAULT_PRODUCT])
    );
    let mut documented = BTreeSet::new();
    for (channel_id, channel) in channels {
        let messages = channel["messages"].as_object().expect("messages");
        assert!(!messages.is_empty(), "{channel_id} has no messages");
        for (id, message) in messages {
            let reference = message["payload"]["$ref"]
                .as_str()
                .unwrap_or_else(|| panic!("{id} has no payload $ref"));
            let path = contracts_dir().join(reference);
            assert!(path.is_file(), "{id}: {reference} does not exist");
            let schema = read_json(&path);
            let headers = &message["headers"];
            assert_eq!(
                schema["$id"], headers["properties"]["ce_dataschema"]["const"],
                "{id}: ce_dataschema names its payload schema"
            );
            let required: BTreeSet<&str> = headers["required"]
                .as_array()
                .unwrap_or_else(|| panic!("{id} has no required headers"))
                .iter()
                .filter_map(Value::as_str)
                .collect();
            for header in ESSENTIAL_HEADERS {
                assert!(required.contains(header), "{id} does not require {header}");
            }
            assert_eq!(
                message["correlationId"]["location"],
                "$message.header#/ce_correlationid"
            );
            assert_eq!(message["bindings"]["kafka"]["key"]["format"], "uuid");
            let example = &message["examples"][0];
            let header_problems = errors(&validator(headers), &example["headers"]);
            assert!(header_problems.is_empty(), "{id}: {header_problems:?}");
            let payload_problems = errors(&validator(&schema), &example["payload"]);
            assert!(payload_problems.is_empty(), "{id}: {payload_problems:?}");
            documented.insert(message["name"].as_str().expect("name").to_owned());
        }
    }
    let catalogued: BTreeSet<String> = catalog()
        .iter()
        .map(|info| info.event_type.to_owned())
        .collect();
    assert_eq!(documented, catalogued, "one message per event type");
    for (id, operation) in document["operations"].as_object().expect("operations") {
        // The document describes CloudCommerce, which publishes these events.
        assert_eq!(operation["action"], "send", "{id}");
        assert!(resolve(&document, &operation["channel"]).is_some(), "{id}");
        for message in operation["messages"].as_array().expect("messages") {
            assert!(resolve(&document, message).is_some(), "{id}: {message}");
        }
    }
}

/// The documented message of one event type and version, wherever its channel is.
fn documented_headers<'a>(document: &'a Value, info: &EventTypeInfo) -> &'a Value {
    let title = format!("{} v{}", info.event_type, info.schema_version);
    document["channels"]
        .as_object()
        .into_iter()
        .flat_map(|channels| channels.values())
        .filter_map(|channel| channel["messages"].as_object())
        .flat_map(|messages| messages.values())
        .find(|message| message["title"] == title.as_str())
        .map(|message| &message["headers"])
        .unwrap_or_else(|| panic!("{title} is not in the AsyncAPI document"))
}

/// What a consumer sees: every header as text. Not lossy: a header that is not UTF-8 fails.
fn header_object(headers: &rdkafka::message::OwnedHeaders) -> Value {
    let object: Map<String, Value> = headers
        .iter()
        .map(|header| {
            let bytes = header.value.expect("every header has a value").to_vec();
            let text = String::from_utf8(bytes).expect("headers are UTF-8");
            (header.key.to_owned(), Value::String(text))
        })
        .collect();
    Value::Object(object)
}

/// The owned parts of a sample event of one type; `full` fills every optional attribute.
struct Sample {
    info: EventTypeInfo,
    stream_type: &'static str,
    payload: Value,
    actor: String,
    full: bool,
}

impl Sample {
    fn of<A: Aggregate>(info: EventTypeInfo, full: bool) -> Self {
        Self {
            stream_type: A::STREAM_TYPE,
            payload: (info.published_example)(),
            actor: if full {
                Uuid::now_v7().to_string()
            } else {
                "system".to_owned()
            },
            info,
            full,
        }
    }

    fn outgoing(&self) -> Outgoing<'_> {
        Outgoing {
            event_id: Uuid::now_v7(),
            stream_id: Uuid::now_v7(),
            stream_type: self.stream_type,
            stream_version: 12,
            event_type: self.info.event_type,
            schema_version: self.info.schema_version,
            payload: &self.payload,
            correlation_id: Uuid::now_v7(),
            causation_id: self.full.then(Uuid::now_v7),
            actor: &self.actor,
            traceparent: self
                .full
                .then_some("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"),
            recorded_at: Utc::now(),
        }
    }
}

#[test]
fn the_envelope_headers_match_the_documented_header_schema() {
    let document = asyncapi_document();
    let user = UserEvent::catalog()
        .into_iter()
        .map(|info| Sample::of::<User>(info, true));
    let product = ProductEvent::catalog()
        .into_iter()
        .map(|info| Sample::of::<Product>(info, false));
    for sample in user.chain(product) {
        let info = &sample.info;
        let (key, headers, _) = kafka::envelope::encode(&sample.outgoing());
        let headers = header_object(&headers);
        let validator = validator(documented_headers(&document, info));
        let problems = errors(&validator, &headers);
        assert!(
            problems.is_empty(),
            "encode() of {} writes headers its contract refuses: {problems:?}\n{headers:#}",
            info.event_type
        );
        assert_eq!(headers["ce_subject"], key, "the key is the subject");

        // The schema can say no: a missing or unpadded sequence, another type's name or a
        // malformed id must fail.
        let mut without_sequence = headers.clone();
        without_sequence
            .as_object_mut()
            .map(|object| object.remove("ce_sequence"));
        assert!(
            !validator.is_valid(&without_sequence),
            "{}",
            info.event_type
        );
        let mut unpadded = headers.clone();
        unpadded["ce_sequence"] = json!("12");
        assert!(!validator.is_valid(&unpadded), "{}", info.event_type);
        assert_eq!(
            kafka::envelope::parse_sequence(headers["ce_sequence"].as_str().unwrap_or_default()),
            Some(12),
            "ce_sequence reads back as the stream version"
        );
        let mut other_type = headers.clone();
        other_type["ce_type"] = json!("product.deleted");
        assert!(!validator.is_valid(&other_type), "{}", info.event_type);
        let mut bad_id = headers.clone();
        bad_id["ce_id"] = json!("not-a-uuid");
        assert!(!validator.is_valid(&bad_id), "{}", info.event_type);
    }
}
