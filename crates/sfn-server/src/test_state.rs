//! TestState: one state of a definition run once by the engine's
//! [`sfn_local::test_state`], with its request and answer in the API's wire form
//! (<https://docs.aws.amazon.com/step-functions/latest/apireference/API_TestState.html>).

use serde_json::{Map, Value};
use sfn_local::{TestStateError, TestStateOutput, TestStateRequest};

use crate::{ApiError, Service};

impl From<TestStateError> for ApiError {
    fn from(e: TestStateError) -> Self {
        match &e {
            TestStateError::InvalidDefinition(reason) => ApiError::invalid_definition(reason),
            TestStateError::InvalidInput(_) => ApiError::invalid_input(e.to_string()),
            _ => ApiError::validation(e.to_string()),
        }
    }
}

impl Service {
    /// `TestState`: the request's state run with the mock, or with the service's handlers.
    pub(crate) async fn test_state(&self, params: &Map<String, Value>) -> Result<Value, ApiError> {
        let request = TestStateRequest::from_json(&Value::Object(params.clone()))?;
        let mut answer = sfn_local::test_state_on(&request, &self.handlers, self.clock()).await?;
        self.mask_answer(&mut answer);
        Ok(answer.to_json())
    }

    /// Masks the answer's documents as the service masks what it keeps.
    fn mask_answer(&self, answer: &mut TestStateOutput) {
        if let Some(o) = answer.output.as_mut() {
            self.mask(o);
        }
        self.mask_text(&mut answer.error);
        self.mask_text(&mut answer.cause);
        if let Some(d) = answer.inspection_data.as_mut() {
            let docs = [
                &mut d.input,
                &mut d.after_input_path,
                &mut d.after_parameters,
                &mut d.after_arguments,
                &mut d.result,
                &mut d.after_result_selector,
                &mut d.after_result_path,
                &mut d.after_items_path,
                &mut d.after_item_selector,
                &mut d.after_item_batcher,
            ];
            for v in docs.into_iter().flatten() {
                self.mask(v);
            }
            if let Some(vars) = d.variables.as_mut() {
                vars.values_mut().for_each(|v| self.mask(v));
            }
        }
    }
}
