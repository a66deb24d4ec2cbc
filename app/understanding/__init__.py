"""Understanding an instruction: normalise what an extractor found and resolve it against FHIR."""
