package health.prm.hapi;

import ca.uhn.fhir.interceptor.api.Hook;
import ca.uhn.fhir.interceptor.api.Interceptor;
import ca.uhn.fhir.interceptor.api.Pointcut;
import ca.uhn.fhir.jpa.subscription.model.CanonicalSubscription;
import ca.uhn.fhir.jpa.subscription.model.ResourceDeliveryMessage;
import ca.uhn.fhir.rest.annotation.IdParam;
import ca.uhn.fhir.rest.annotation.Operation;
import ca.uhn.fhir.rest.server.exceptions.BaseServerResponseException;
import java.util.Date;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.hl7.fhir.r4.model.IdType;
import org.hl7.fhir.r4.model.InstantType;
import org.hl7.fhir.r4.model.IntegerType;
import org.hl7.fhir.r4.model.Parameters;
import org.hl7.fhir.r4.model.StringType;

/**
 * The outcome of HAPI's rest-hook deliveries per Subscription, which R4 Subscriptions do not record:
 * the time of the last delivery that succeeded and of the last attempt that failed, with the failure's
 * exception type and HTTP status (never its message: it may quote the receiver's answer).
 *
 * <p>Kept in memory (since {@link #since}): writing it into the Subscription would re-register the
 * Subscription on every delivery. {@code GET /fhir/Subscription/<id>/$prm-delivery-status} answers a
 * {@code Parameters}; the PRM's /fhir proxy does not pass it on (the PRM's endpoint health shows it).
 */
@Interceptor
public class DeliveryStatus {

	static final String OPERATION = "$prm-delivery-status";

	private record Outcome(Date lastDelivery, int deliveries, Date lastFailure, String lastError, int failures) {}

	private final Date since = new Date();
	private final Map<String, Outcome> outcomes = new ConcurrentHashMap<>();

	@Hook(Pointcut.SUBSCRIPTION_AFTER_REST_HOOK_DELIVERY)
	public void delivered(CanonicalSubscription subscription, ResourceDeliveryMessage message) {
		outcomes.compute(subscription.getIdPart(), (id, o) -> o == null
				? new Outcome(new Date(), 1, null, null, 0)
				: new Outcome(new Date(), o.deliveries() + 1, o.lastFailure(), o.lastError(), o.failures()));
	}

	/** Every failed attempt (HAPI retries a few times); returning true lets HAPI go on retrying. */
	@Hook(Pointcut.SUBSCRIPTION_AFTER_DELIVERY_FAILED)
	public boolean failed(ResourceDeliveryMessage message, Exception exception) {
		CanonicalSubscription subscription = message.getSubscription();
		if (subscription == null || subscription.getIdPart() == null) {
			return true;
		}
		String error = describe(exception);
		outcomes.compute(subscription.getIdPart(), (id, o) -> o == null
				? new Outcome(null, 0, new Date(), error, 1)
				: new Outcome(o.lastDelivery(), o.deliveries(), new Date(), error, o.failures() + 1));
		return true;
	}

	@Operation(name = OPERATION, idempotent = true, typeName = "Subscription")
	public Parameters status(@IdParam IdType id) {
		Parameters out = new Parameters();
		out.addParameter().setName("since").setValue(new InstantType(since));
		Outcome o = outcomes.get(id.getIdPart());
		if (o == null) {
			return out;
		}
		out.addParameter().setName("deliveries").setValue(new IntegerType(o.deliveries()));
		out.addParameter().setName("failures").setValue(new IntegerType(o.failures()));
		if (o.lastDelivery() != null) {
			out.addParameter().setName("lastDelivery").setValue(new InstantType(o.lastDelivery()));
		}
		if (o.lastFailure() != null) {
			out.addParameter().setName("lastFailure").setValue(new InstantType(o.lastFailure()));
			out.addParameter().setName("lastError").setValue(new StringType(o.lastError()));
		}
		return out;
	}

	/** The exception's type and, for an HTTP answer, its status; the root cause for a connection error. */
	static String describe(Throwable exception) {
		if (exception instanceof BaseServerResponseException http) {
			return exception.getClass().getSimpleName() + " (HTTP " + http.getStatusCode() + ")";
		}
		Throwable root = exception;
		while (root.getCause() != null && root.getCause() != root) {
			root = root.getCause();
		}
		return root == exception
				? exception.getClass().getSimpleName()
				: exception.getClass().getSimpleName() + " (" + root.getClass().getSimpleName() + ")";
	}
}
