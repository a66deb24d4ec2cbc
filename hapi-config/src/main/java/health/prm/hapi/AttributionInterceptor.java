package health.prm.hapi;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.interceptor.api.Hook;
import ca.uhn.fhir.interceptor.api.Interceptor;
import ca.uhn.fhir.interceptor.api.Pointcut;
import ca.uhn.fhir.rest.api.server.RequestDetails;
import ca.uhn.fhir.util.MetaUtil;
import org.hl7.fhir.instance.model.api.IBaseResource;

/**
 * Records who wrote a resource through the PRM's {@code /fhir} endpoint.
 *
 * <p>The PRM sets {@value #USER_HEADER} to the API key's user on every request it proxies (and drops
 * the header from its clients), so a create or update carrying it gets
 * {@code meta.source = urn:prm:user:<user>}; HAPI appends {@code #<request id>} from the PRM's
 * {@code X-Request-ID}. Whatever source the client wrote is replaced: it cannot be forged. Writes
 * the PRM makes itself carry no header and keep their own source (they record Provenance).
 */
@Interceptor
public class AttributionInterceptor {

	static final String USER_HEADER = "X-PRM-User";
	static final String SOURCE_PREFIX = "urn:prm:user:";

	private final FhirContext fhirContext;

	public AttributionInterceptor(FhirContext fhirContext) {
		this.fhirContext = fhirContext;
	}

	@Hook(Pointcut.STORAGE_PRESTORAGE_RESOURCE_CREATED)
	public void created(IBaseResource resource, RequestDetails request) {
		attribute(resource, request);
	}

	@Hook(Pointcut.STORAGE_PRESTORAGE_RESOURCE_UPDATED)
	public void updated(IBaseResource previous, IBaseResource resource, RequestDetails request) {
		attribute(resource, request);
	}

	private void attribute(IBaseResource resource, RequestDetails request) {
		if (request == null) {
			return;
		}
		String user = request.getHeader(USER_HEADER);
		if (user == null || user.isBlank()) {
			return;
		}
		MetaUtil.setSource(fhirContext, resource, SOURCE_PREFIX + safe(user));
	}

	/** Keeps the user a valid URI segment ('#' would start HAPI's request-id part). */
	static String safe(String user) {
		StringBuilder out = new StringBuilder(user.length());
		for (char c : user.toCharArray()) {
			boolean ok = Character.isLetterOrDigit(c) && c < 128 || "@._-+".indexOf(c) >= 0;
			out.append(ok ? c : '_');
		}
		return out.toString();
	}
}
