package io.pvio.bench.cli;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Properties;

import picocli.CommandLine.IVersionProvider;

/**
 * Version lines of {@code pvio --version}: the project version, stamped into {@code version.properties} by the build,
 * then the JVM and the operating system it runs on.
 */
final class VersionProvider implements IVersionProvider
{
    static final String VERSION_RESOURCE = "version.properties";

    /**
     * {@inheritDoc}
     */
    @Override
    public String[] getVersion()
    {
        return new String[]
        {
            "pvio " + projectVersion(),
            "JVM: ${java.version} (${java.vendor} ${java.vm.name} ${java.vm.version})",
            "OS: ${os.name} ${os.version} ${os.arch}"
        };
    }

    static String projectVersion()
    {
        try (InputStream in = VersionProvider.class.getResourceAsStream(VERSION_RESOURCE))
        {
            if (null == in)
            {
                return "unknown";
            }
            final Properties properties = new Properties();
            properties.load(in);
            return properties.getProperty("version", "unknown");
        }
        catch (final IOException ex)
        {
            throw new UncheckedIOException("cannot read " + VERSION_RESOURCE, ex);
        }
    }
}
