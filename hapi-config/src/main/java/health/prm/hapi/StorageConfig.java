package health.prm.hapi;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.jpa.api.IDaoRegistry;
import ca.uhn.fhir.jpa.api.config.JpaStorageSettings;
import ca.uhn.fhir.jpa.api.dao.IFhirSystemDao;
import ca.uhn.fhir.jpa.binstore.DatabaseBinaryContentStorageSvcImpl;
import ca.uhn.fhir.jpa.config.HibernatePropertiesProvider;
import ca.uhn.fhir.jpa.config.util.HapiEntityManagerFactoryUtil;
import ca.uhn.fhir.jpa.config.util.ResourceCountCacheUtil;
import ca.uhn.fhir.jpa.dao.search.HSearchSortHelperImpl;
import ca.uhn.fhir.jpa.dao.search.IHSearchSortHelper;
import ca.uhn.fhir.jpa.model.config.PartitionSettings;
import ca.uhn.fhir.jpa.model.config.SubscriptionSettings;
import ca.uhn.fhir.jpa.provider.DaoRegistryResourceSupportedSvc;
import ca.uhn.fhir.jpa.search.DatabaseBackedPagingProvider;
import ca.uhn.fhir.jpa.search.IStaleSearchDeletingSvc;
import ca.uhn.fhir.jpa.search.StaleSearchDeletingSvcImpl;
import ca.uhn.fhir.jpa.subscription.match.deliver.email.IEmailSender;
import ca.uhn.fhir.jpa.util.ResourceCountCache;
import ca.uhn.fhir.rest.api.IResourceSupportedSvc;
import ca.uhn.fhir.rest.server.util.ISearchParamRegistry;
import jakarta.persistence.EntityManagerFactory;
import java.util.HashMap;
import java.util.Map;
import javax.sql.DataSource;
import org.hibernate.cfg.AvailableSettings;
import org.hibernate.dialect.Dialect;
import org.hibernate.search.mapper.orm.cfg.HibernateOrmMapperSettings;
import org.springframework.beans.factory.config.ConfigurableListableBeanFactory;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.context.annotation.Primary;
import org.springframework.orm.jpa.JpaTransactionManager;
import org.springframework.orm.jpa.LocalContainerEntityManagerFactoryBean;
import org.springframework.transaction.annotation.EnableTransactionManagement;

/** Persistence and storage settings: what the JPA server stores and how it behaves on write. */
@Configuration
@EnableTransactionManagement
public class StorageConfig {

	@Bean
	public JpaStorageSettings jpaStorageSettings(PrmProperties prm) {
		JpaStorageSettings settings = new JpaStorageSettings();
		// A cached search could show a booked slot as free: the PRM always wants fresh results.
		settings.setReuseCachedSearchResultsForMillis(prm.getSearchCacheMillis());
		// Client-assigned ids such as Slot/rajiv-sharma-20261202-1000; purely numeric ones stay server-side.
		settings.setResourceClientIdStrategy(JpaStorageSettings.ClientIdStrategyEnum.ALPHANUMERIC);
		settings.setAutoCreatePlaceholderReferenceTargets(false);
		settings.setEnforceReferentialIntegrityOnWrite(true);
		// Destructive administration is off in the server itself, not only refused by the PRM's /fhir
		// policy: a conditional delete matching more than one resource fails (412), and $expunge /
		// $delete-expunge are disabled. Nothing in the PRM needs them.
		settings.setAllowMultipleDelete(false);
		settings.setExpungeEnabled(false);
		settings.setDeleteExpungeEnabled(false);
		settings.setPreExpandValueSets(false);
		settings.setEnableTaskPreExpandValueSets(false);
		// Resources written before a SearchParameter existed are reindexed when it is created or changed.
		settings.setMarkResourcesForReindexingUponSearchParameterChange(true);
		settings.setHibernateSearchIndexSearchParams(false);
		settings.setHibernateSearchIndexFullText(false);
		// FHIR Bulk Data $export (system, Patient, Group) for EHRs: NDJSON files stored as Binary.
		// Every kick-off runs a fresh job, so an export never hands back files of an earlier one.
		settings.setEnableTaskBulkExportJobExecution(true);
		settings.setEnableBulkExportJobReuse(false);
		return settings;
	}

	@Bean
	public PartitionSettings partitionSettings() {
		return new PartitionSettings();
	}

	@Bean
	public SubscriptionSettings subscriptionSettings() {
		SubscriptionSettings settings = new SubscriptionSettings();
		settings.addSupportedSubscriptionType(
				org.hl7.fhir.dstu2.model.Subscription.SubscriptionChannelType.RESTHOOK);
		// Deliver within about a second instead of HAPI's default five.
		settings.setSubscriptionIntervalInMs(1000);
		settings.setSubscriptionChangeQueuedImmediately(true);
		return settings;
	}

	@Bean
	public IEmailSender emailSender() {
		// Email subscriptions are not offered; the subscription module still needs the bean.
		return details -> {};
	}

	@Bean
	public DatabaseBinaryContentStorageSvcImpl binaryStorageSvc() {
		return new DatabaseBinaryContentStorageSvcImpl();
	}

	// Deliberately no IFulltextSearchSvc bean: with Hibernate Search off, defining one makes HAPI
	// route ValueSet/$expand (and validation of narrowed bindings) through it, which fails with 500.

	@Bean
	public IStaleSearchDeletingSvc staleSearchDeletingSvc() {
		return new StaleSearchDeletingSvcImpl();
	}

	@Bean
	public DatabaseBackedPagingProvider databaseBackedPagingProvider() {
		DatabaseBackedPagingProvider paging = new DatabaseBackedPagingProvider();
		paging.setDefaultPageSize(50);
		paging.setMaximumPageSize(500);
		return paging;
	}

	@Bean
	public IResourceSupportedSvc resourceSupportedSvc(IDaoRegistry daoRegistry) {
		return new DaoRegistryResourceSupportedSvc(daoRegistry);
	}

	@Bean(name = "myResourceCountsCache")
	public ResourceCountCache resourceCountsCache(IFhirSystemDao<?, ?> systemDao) {
		return ResourceCountCacheUtil.newResourceCountCache(systemDao);
	}

	@Bean
	public IHSearchSortHelper hSearchSortHelper(ISearchParamRegistry searchParamRegistry) {
		return new HSearchSortHelperImpl(searchParamRegistry);
	}

	@Primary
	@Bean
	public LocalContainerEntityManagerFactoryBean entityManagerFactory(
			ConfigurableListableBeanFactory beanFactory,
			FhirContext fhirContext,
			JpaStorageSettings storageSettings,
			DataSource dataSource,
			@Value("${prm.hibernate-dialect}") String dialect) {
		LocalContainerEntityManagerFactoryBean factory =
				HapiEntityManagerFactoryUtil.newEntityManagerFactory(beanFactory, fhirContext, storageSettings);
		Map<String, Object> jpa = new HashMap<>();
		jpa.put(AvailableSettings.DIALECT, dialect);
		jpa.put(AvailableSettings.HBM2DDL_AUTO, "update");
		jpa.put(AvailableSettings.SCANNER, "org.hibernate.boot.archive.scan.internal.DisabledScanner");
		jpa.put(
				AvailableSettings.PHYSICAL_NAMING_STRATEGY,
				"org.hibernate.boot.model.naming.CamelCaseToUnderscoresNamingStrategy");
		jpa.put(
				AvailableSettings.IMPLICIT_NAMING_STRATEGY,
				"org.springframework.boot.orm.jpa.hibernate.SpringImplicitNamingStrategy");
		jpa.put(AvailableSettings.STATEMENT_BATCH_SIZE, "20");
		jpa.put(AvailableSettings.USE_QUERY_CACHE, "false");
		jpa.put(AvailableSettings.USE_SECOND_LEVEL_CACHE, "false");
		jpa.put(AvailableSettings.FORMAT_SQL, "false");
		jpa.put(AvailableSettings.SHOW_SQL, "false");
		// Lucene is off: indexes are written in the same transaction as the resource.
		jpa.put(HibernateOrmMapperSettings.ENABLED, "false");
		factory.setPersistenceUnitName("HAPI_PU");
		factory.setJpaPropertyMap(jpa);
		factory.setDataSource(dataSource);
		return factory;
	}

	@Primary
	@Bean
	public JpaTransactionManager transactionManager(EntityManagerFactory entityManagerFactory) {
		JpaTransactionManager manager = new JpaTransactionManager();
		manager.setEntityManagerFactory(entityManagerFactory);
		return manager;
	}

	@Primary
	@Bean
	public HibernatePropertiesProvider hibernatePropertiesProvider(@Value("${prm.hibernate-dialect}") String dialect) {
		return new HibernatePropertiesProvider() {
			@Override
			public Dialect getDialect() {
				try {
					return (Dialect) Class.forName(dialect).getDeclaredConstructor().newInstance();
				} catch (ReflectiveOperationException e) {
					throw new IllegalStateException("Unknown Hibernate dialect " + dialect, e);
				}
			}
		};
	}
}
