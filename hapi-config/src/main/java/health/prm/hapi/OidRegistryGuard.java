package health.prm.hapi;

import java.io.IOException;
import java.io.InputStream;
import java.util.Properties;
import org.hl7.fhir.utilities.OIDUtilities;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.annotation.Configuration;

/**
 * Start-up check of the server's own OIDUtilities (the FHIR validator's OID registry, read once per JVM
 * instead of once per validated resource): it must be the class in use, and the HL7 utilities library
 * must be the version it replaces, or the server refuses to start so that an upgrade reviews it.
 */
@Configuration
public class OidRegistryGuard {

	private static final Logger LOG = LoggerFactory.getLogger(OidRegistryGuard.class);
	private static final String LIBRARY = "META-INF/maven/ca.uhn.hapi.fhir/org.hl7.fhir.utilities/pom.properties";

	public OidRegistryGuard() throws IOException {
		String library = libraryVersion();
		if (!OIDUtilities.REPLACES_VERSION.equals(library)) {
			throw new IllegalStateException("org.hl7.fhir.utilities is " + library + ", the server's OIDUtilities"
					+ " replaces " + OIDUtilities.REPLACES_VERSION + ": review hapi-config/src/main/java/org/hl7/"
					+ "fhir/utilities/OIDUtilities.java against the new version (or delete it if that version"
					+ " reads oidregistry.csv once)");
		}
		String source = String.valueOf(OIDUtilities.class.getProtectionDomain().getCodeSource().getLocation());
		if (source.contains("org.hl7.fhir.utilities")) {
			throw new IllegalStateException("OIDUtilities is loaded from the library (" + source + "), not the server");
		}
		LOG.info("OID registry read once per JVM (OIDUtilities of the server, library {})", library);
	}

	private static String libraryVersion() throws IOException {
		try (InputStream in = OidRegistryGuard.class.getClassLoader().getResourceAsStream(LIBRARY)) {
			if (in == null) {
				return "unknown";
			}
			Properties properties = new Properties();
			properties.load(in);
			return properties.getProperty("version", "unknown");
		}
	}
}
