package health.prm.hapi;

import ca.uhn.fhir.batch2.jobs.bulkmodify.reindex.ReindexProvider;
import ca.uhn.fhir.batch2.jobs.export.BulkDataExportProvider;
import ca.uhn.fhir.context.support.IValidationSupport;
import ca.uhn.fhir.interceptor.api.IInterceptorService;
import ca.uhn.fhir.jpa.api.config.JpaStorageSettings;
import ca.uhn.fhir.jpa.api.dao.IFhirSystemDao;
import ca.uhn.fhir.jpa.interceptor.validation.RepositoryValidatingInterceptor;
import ca.uhn.fhir.jpa.provider.IJpaSystemProvider;
import ca.uhn.fhir.jpa.provider.JpaCapabilityStatementProvider;
import ca.uhn.fhir.jpa.provider.SubscriptionTriggeringProvider;
import ca.uhn.fhir.jpa.provider.ValueSetOperationProvider;
import ca.uhn.fhir.jpa.search.DatabaseBackedPagingProvider;
import ca.uhn.fhir.narrative2.NullNarrativeGenerator;
import ca.uhn.fhir.rest.api.EncodingEnum;
import ca.uhn.fhir.rest.server.ApacheProxyAddressStrategy;
import ca.uhn.fhir.rest.server.RestfulServer;
import ca.uhn.fhir.rest.server.interceptor.CorsInterceptor;
import ca.uhn.fhir.rest.server.provider.ResourceProviderFactory;
import ca.uhn.fhir.rest.server.util.ISearchParamRegistry;
import java.util.List;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.web.cors.CorsConfiguration;

/**
 * The FHIR REST endpoint: providers, paging, CORS, the PRM's write-time profile enforcement, links
 * built from the PRM's forwarded headers and attribution of writes made through the PRM's /fhir.
 */
@Configuration
public class FhirEndpointConfig {

	@Bean
	public CorsInterceptor corsInterceptor(PrmProperties prm) {
		CorsConfiguration cors = new CorsConfiguration();
		for (String header : List.of(
				"Origin", "Accept", "Content-Type", "Authorization", "Cache-Control", "X-Requested-With",
				"Prefer", "If-Match", "If-None-Match", "If-None-Exist", "If-Modified-Since")) {
			cors.addAllowedHeader(header);
		}
		prm.getCorsAllowedOrigins().forEach(cors::addAllowedOriginPattern);
		for (String header : List.of("Location", "Content-Location", "ETag", "Last-Modified")) {
			cors.addExposedHeader(header);
		}
		cors.setAllowedMethods(List.of("GET", "POST", "PUT", "DELETE", "OPTIONS", "PATCH", "HEAD"));
		cors.setAllowCredentials(false);
		return new CorsInterceptor(cors);
	}

	/** Registered with HAPI's global interceptor service: that is where subscription delivery broadcasts. */
	@Bean
	public DeliveryStatus deliveryStatus(IInterceptorService interceptorService) {
		DeliveryStatus deliveryStatus = new DeliveryStatus();
		interceptorService.registerInterceptor(deliveryStatus);
		return deliveryStatus;
	}

	@Bean
	public RestfulServer restfulServer(
			IFhirSystemDao<?, ?> systemDao,
			ResourceProviderFactory resourceProviderFactory,
			IJpaSystemProvider jpaSystemProvider,
			JpaStorageSettings storageSettings,
			ISearchParamRegistry searchParamRegistry,
			IValidationSupport validationSupport,
			DatabaseBackedPagingProvider pagingProvider,
			ValueSetOperationProvider valueSetOperationProvider,
			ReindexProvider reindexProvider,
			SubscriptionTriggeringProvider subscriptionTriggeringProvider,
			BulkDataExportProvider bulkDataExportProvider,
			CorsInterceptor corsInterceptor,
			RepositoryValidatingInterceptor profileEnforcement,
			DeliveryStatus deliveryStatus) {
		RestfulServer server = new RestfulServer(systemDao.getContext());
		systemDao.getContext().setNarrativeGenerator(new NullNarrativeGenerator());
		server.registerProviders(resourceProviderFactory.createProviders());
		server.registerProvider(jpaSystemProvider);
		server.registerProvider(valueSetOperationProvider);
		server.registerProvider(reindexProvider);
		server.registerProvider(subscriptionTriggeringProvider);
		// $export, $export-poll-status: the PRM's /fhir admits them for integration and admin keys only.
		server.registerProvider(bulkDataExportProvider);
		// Subscription/<id>/$prm-delivery-status: the last rest-hook delivery and failure (the PRM's health).
		server.registerProvider(deliveryStatus);
		server.setServerConformanceProvider(new JpaCapabilityStatementProvider(
				server, systemDao, storageSettings, searchParamRegistry, validationSupport));
		server.setPagingProvider(pagingProvider);
		server.setDefaultResponseEncoding(EncodingEnum.JSON);
		// Links (Bundle.link, fullUrl, Location) name the address the PRM's client called, which the
		// PRM passes in X-Forwarded-Host/-Proto/-Prefix; without those headers (the PRM's own calls)
		// they name HAPI's address. Only the PRM can reach HAPI, so the headers are trusted.
		server.setServerAddressStrategy(ApacheProxyAddressStrategy.forHttp());
		server.registerInterceptor(corsInterceptor);
		server.registerInterceptor(profileEnforcement);
		server.registerInterceptor(new AttributionInterceptor(systemDao.getContext()));
		// Deliberately absent: UserRequestRetryVersionConflictsInterceptor. A stale If-Match on a
		// Slot must fail (409) so that two bookings of one slot can never both succeed.
		return server;
	}
}
