package org.hl7.fhir.utilities;

import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import org.hl7.fhir.exceptions.FHIRException;

/**
 * The PRM's replacement for org.hl7.fhir.utilities 6.7.9's OIDUtilities (Apache License 2.0, HL7 FHIR
 * core): the same API and behaviour, but the OID registry (oidregistry.csv, 1.5 MB, ~40,000 rows) is
 * read once per JVM instead of once per instance.
 *
 * <p>Why: the FHIR validator builds a new InstanceValidator for every resource it validates, and the
 * InstanceValidator's constructor creates an OIDUtilities, which parsed the whole CSV each time: 47 % of
 * the CPU samples of HAPI's request threads while booking (profiled with JFR; docs/operations.md). This class
 * is found before the library's own because the server's classes come first on its class path;
 * {@code health.prm.hapi.OidRegistryGuard} stops the server if the library is not the version this copy
 * was written for, so an upgrade reviews it (or drops it once the library caches the registry itself).
 */
public class OIDUtilities {

	/** The library version whose OIDUtilities this class replaces. */
	public static final String REPLACES_VERSION = "6.7.9";

	private static final String OID_REGEX = "[0-2](\\.(0|[1-9][0-9]*))+";

	private final Map<String, OIDInfo> oidMap;

	public OIDUtilities() {
		oidMap = Registry.OIDS;
	}

	/** The registry, read on first use; never changed afterwards, so instances share it. */
	private static final class Registry {
		private static final Map<String, OIDInfo> OIDS = load();

		private static Map<String, OIDInfo> load() throws FHIRException {
			Map<String, OIDInfo> oids = new HashMap<>();
			try (InputStream in = OIDUtilities.class.getClassLoader().getResourceAsStream("oidregistry.csv");
					BufferedReader reader = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
				String line;
				boolean header = true;
				while ((line = reader.readLine()) != null) {
					if (header) {
						header = false;
						continue;
					}
					String[] parts = line.split(",");
					if (parts.length >= 4) {
						OIDInfo info = new OIDInfo();
						info.setOid(parts[0].trim());
						info.setType(Integer.parseInt(parts[1].trim()));
						info.setName(parts[2].trim());
						info.setCodeSystem(parts[3].trim());
						oids.put(info.getOid(), info);
					}
				}
			} catch (Exception e) {
				throw new FHIRException(e);
			}
			return Map.copyOf(oids);
		}
	}

	public static String getUriForOid(String r) {
		if (r == null) {
			return null;
		}
		switch (r) {
			case "2.16.840.1.113883.6.96":
				return "http://snomed.info/sct";
			case "2.16.840.1.113883.6.1":
				return "http://loinc.org";
			case "2.16.840.1.113883.6.8":
				return "http://unitsofmeasure.org";
			case "2.16.840.1.113883.6.3":
				return "http://hl7.org/fhir/sid/icd-10";
			case "2.16.840.1.113883.6.42":
			case "2.16.840.1.113883.6.104":
			case "2.16.840.1.113883.6.103":
				return "http://hl7.org/fhir/sid/icd-9";
			case "2.16.840.1.113883.6.73":
				return "http://www.whocc.no/atc";
			case "2.16.840.1.113883.3.26.1.1":
			case "2.16.840.1.113883.3.26.1.1.1":
				return "http://ncimeta.nci.nih.gov";
			case "2.16.840.1.113883.6.88":
				return "http://www.nlm.nih.gov/research/umls/rxnorm";
			case "2.16.840.1.113883.6.59":
			case "2.16.840.1.113883.12.292":
				return "http://hl7.org/fhir/sid/cvx";
			case "2.16.840.1.113883.6.12":
				return "http://www.ama-assn.org/go/cpt";
			default:
				return null;
		}
	}

	public static String oidTail(String id) {
		if (id == null || !id.contains(".")) {
			return id;
		}
		return id.substring(id.lastIndexOf(".") + 1);
	}

	public static String oidRoot(String id) {
		if (id == null || !id.contains(".")) {
			return id;
		}
		return id.substring(0, id.indexOf("."));
	}

	public static boolean isValidOID(String oid) {
		return oid.matches(OID_REGEX);
	}

	public boolean isKnownOID(String oid) {
		if (oid == null || !oid.startsWith("urn:oid:")) {
			return false;
		}
		return oidMap.containsKey(oid.substring(8));
	}

	/** One row of the registry. */
	public static class OIDInfo {
		private String oid;
		private String name;
		private String codeSystem;
		private Integer type;

		public String getOid() {
			return oid;
		}

		public void setOid(String oid) {
			this.oid = oid;
		}

		public String getName() {
			return name;
		}

		public void setName(String name) {
			this.name = name;
		}

		public String getCodeSystem() {
			return codeSystem;
		}

		public void setCodeSystem(String codeSystem) {
			this.codeSystem = codeSystem;
		}

		public Integer getType() {
			return type;
		}

		public void setType(Integer type) {
			this.type = type;
		}

		@Override
		public String toString() {
			return "OID: " + oid + ", Name: " + name + ", CodeSystem: " + codeSystem + ", Type: " + type;
		}
	}
}
