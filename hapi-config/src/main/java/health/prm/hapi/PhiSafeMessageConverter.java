package health.prm.hapi;

import ch.qos.logback.classic.pattern.ClassicConverter;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.IThrowableProxy;
import java.util.LinkedHashSet;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A log message with the PHI left out: for loggers outside the PRM's own code, only HAPI's error
 * codes ({@code HAPI-1234}) and the exception types are printed, never the text.
 *
 * <p>HAPI, Hibernate and the JDBC driver quote search URLs, SQL bind values and resource content in
 * their messages (a concurrent conditional create logs the patient's phone from the unique-index
 * violation on the search-URL table); none of that may reach the log. The codes and types are
 * enough to find the failure in HAPI's documentation and source.
 */
public class PhiSafeMessageConverter extends ClassicConverter {

	private static final Pattern HAPI_CODE = Pattern.compile("HAPI-\\d{1,5}");

	@Override
	public String convert(ILoggingEvent event) {
		Set<String> codes = new LinkedHashSet<>();
		collectCodes(event.getFormattedMessage(), codes);
		StringBuilder types = new StringBuilder();
		for (IThrowableProxy t = event.getThrowableProxy(); t != null; t = t.getCause()) {
			collectCodes(t.getMessage(), codes);
			types.append(types.length() == 0 ? "" : " <- ").append(t.getClassName());
		}
		StringBuilder out = new StringBuilder("[message withheld: may carry PHI]");
		if (!codes.isEmpty()) {
			out.append(" codes=").append(String.join(",", codes));
		}
		if (types.length() > 0) {
			out.append(" exception=").append(types);
		}
		return out.toString();
	}

	private static void collectCodes(String text, Set<String> codes) {
		if (text == null) {
			return;
		}
		Matcher matcher = HAPI_CODE.matcher(text);
		while (matcher.find()) {
			codes.add(matcher.group());
		}
	}
}
