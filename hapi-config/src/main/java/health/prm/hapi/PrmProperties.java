package health.prm.hapi;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.springframework.boot.context.properties.ConfigurationProperties;

/** The few knobs the PRM needs on its FHIR server (application.yaml, prefix {@code prm}). */
@ConfigurationProperties(prefix = "prm")
public class PrmProperties {

	/** Milliseconds HAPI may reuse an identical search's results; null disables the cache. */
	private Long searchCacheMillis;

	/** Origins allowed by CORS (browser FHIR clients). */
	private List<String> corsAllowedOrigins = new ArrayList<>(List.of("*"));

	/** Resource type -> profiles; a write of that type must declare one of them and validate against it. */
	private Map<String, List<String>> enforcedProfiles = new LinkedHashMap<>();

	public Long getSearchCacheMillis() {
		return searchCacheMillis;
	}

	public void setSearchCacheMillis(Long searchCacheMillis) {
		this.searchCacheMillis = searchCacheMillis;
	}

	public List<String> getCorsAllowedOrigins() {
		return corsAllowedOrigins;
	}

	public void setCorsAllowedOrigins(List<String> corsAllowedOrigins) {
		this.corsAllowedOrigins = corsAllowedOrigins;
	}

	public Map<String, List<String>> getEnforcedProfiles() {
		return enforcedProfiles;
	}

	public void setEnforcedProfiles(Map<String, List<String>> enforcedProfiles) {
		this.enforcedProfiles = enforcedProfiles;
	}
}
