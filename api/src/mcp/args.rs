//! Tool arguments: deserialized with the path of the offending field in the error, so an assistant
//! learns which argument was wrong (`'limit': invalid type: string "many", expected u32`). Named
//! `Parameters` like the SDK's wrapper, whose place it takes: the SDK's tool macro finds the input
//! schema by that name.

use rmcp::ErrorData;
use rmcp::handler::server::common::FromContextPart;
use rmcp::handler::server::tool::ToolCallContext;
use rmcp::model::JsonObject;
use rmcp::schemars::{JsonSchema, Schema, SchemaGenerator};
use serde::de::DeserializeOwned;

/// A tool's arguments as `P`.
pub(crate) struct Parameters<P>(pub P);

impl<P: JsonSchema> JsonSchema for Parameters<P> {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        P::schema_name()
    }

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        P::json_schema(generator)
    }
}

impl<S, P: DeserializeOwned> FromContextPart<ToolCallContext<'_, S>> for Parameters<P> {
    fn from_context_part(context: &mut ToolCallContext<'_, S>) -> Result<Self, ErrorData> {
        parse(&context.name, context.arguments.take()).map(Parameters)
    }
}

/// `tool`'s `arguments` as `P`, or an invalid-params error naming the argument. serde quotes the
/// offending value, which may be a phone number, and the SDK logs the message: digits are masked.
fn parse<P: DeserializeOwned>(tool: &str, arguments: Option<JsonObject>) -> Result<P, ErrorData> {
    let arguments = serde_json::Value::Object(arguments.unwrap_or_default());
    serde_path_to_error::deserialize(arguments).map_err(|e| {
        let path = e.path().to_string();
        let message = if path == "." {
            format!("invalid arguments for {tool}: {}", e.into_inner())
        } else {
            format!("invalid arguments for {tool}: '{path}': {}", e.into_inner())
        };
        ErrorData::invalid_params(faxline_protocol::mask_numbers_in(&message), None)
    })
}

#[cfg(test)]
mod tests {
    use super::super::{ListFaxesArgs, SendFaxArgs};
    use serde_json::json;

    fn error<P: serde::de::DeserializeOwned>(tool: &str, v: serde_json::Value) -> String {
        match super::parse::<P>(tool, v.as_object().cloned()) {
            Ok(_) => panic!("accepted {v}"),
            Err(e) => e.message.to_string(),
        }
    }

    #[test]
    fn errors_name_the_argument() {
        let e = error::<ListFaxesArgs>("list_faxes", json!({"limit": "many"}));
        assert!(
            e.starts_with("invalid arguments for list_faxes: 'limit': invalid type: string"),
            "{e}"
        );
        let e = error::<SendFaxArgs>("send_fax", json!({"document_base64": "x"}));
        assert!(e.contains("missing field `to`"), "{e}");
        let e = error::<SendFaxArgs>("send_fax", json!({"to": "+15551234567", "file": "x"}));
        assert!(e.contains("unknown field `file`"), "{e}");
        assert!(super::parse::<ListFaxesArgs>("list_faxes", None).is_ok());
    }

    #[test]
    fn a_number_in_an_error_is_masked() {
        let e = error::<SendFaxArgs>("send_fax", json!({"to": 15551234567u64}));
        assert!(e.contains("'to'") && e.contains("4567"), "{e}");
        assert!(!e.contains("5551234567"), "{e}");
    }
}
