package health.prm.hapi;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.jpa.interceptor.validation.IRepositoryValidatingRule;
import ca.uhn.fhir.jpa.interceptor.validation.RepositoryValidatingInterceptor;
import ca.uhn.fhir.jpa.interceptor.validation.RepositoryValidatingRuleBuilder;
import ca.uhn.fhir.rest.server.exceptions.UnprocessableEntityException;
import java.util.List;
import java.util.Map;
import org.hl7.fhir.r4.model.OperationOutcome;
import org.hl7.fhir.r4.model.OperationOutcome.IssueSeverity;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * Validation on write for the PRM's profiled resource types, whatever client writes them.
 *
 * <p>The rules come from configuration rather than from the StructureDefinitions stored at start-up,
 * so profiles loaded after the server starts are enforced too (they are read from the database
 * when a resource is validated).
 *
 * <p>HAPI's interceptor rejects with 412 Precondition Failed; the PRM answers 422 Unprocessable
 * Entity instead, which is what FHIR specifies for content that violates a profile and what
 * clients (and the PRM's own gateway) read as "invalid", never as a version conflict.
 */
@Configuration
public class ProfileEnforcementConfig {

	private static final Logger LOG = LoggerFactory.getLogger(ProfileEnforcementConfig.class);

	@Bean
	public RepositoryValidatingInterceptor profileEnforcement(
			FhirContext fhirContext, RepositoryValidatingRuleBuilder ruleBuilder, PrmProperties prm) {
		for (Map.Entry<String, List<String>> entry : prm.getEnforcedProfiles().entrySet()) {
			LOG.info("Enforcing profiles {} on {}", entry.getValue(), entry.getKey());
			ruleBuilder
					.forResourcesOfType(entry.getKey())
					.requireAtLeastOneProfileOf(entry.getValue().toArray(String[]::new))
					.and()
					.requireValidationToDeclaredProfiles()
					.withBestPracticeWarningLevel("IGNORE")
					.rejectOnSeverity("error");
		}
		List<IRepositoryValidatingRule> rules = ruleBuilder.build();
		return new RepositoryValidatingInterceptor(fhirContext, rules) {
			@Override
			protected void handleFailure(IRepositoryValidatingRule.RuleEvaluation outcome) {
				if (outcome.getOperationOutcome() instanceof OperationOutcome issues) {
					// The response body is the validator's OperationOutcome with every issue; the
					// message (HAPI's log line) names the first error, not an informational issue.
					String firstError = issues.getIssue().stream()
							.filter(i -> i.getSeverity() == IssueSeverity.ERROR || i.getSeverity() == IssueSeverity.FATAL)
							.map(OperationOutcome.OperationOutcomeIssueComponent::getDiagnostics)
							.findFirst()
							.orElse("Profile validation failed");
					throw new UnprocessableEntityException(firstError, issues);
				}
				throw new UnprocessableEntityException(outcome.getFailureDescription());
			}
		};
	}
}
