using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Parley.AspNetCore;

/// <summary>Makes Parley the server of an ASP.NET Core application.</summary>
public static class ParleyWebHostBuilderExtensions
{
    /// <summary>
    /// Runs the application on Parley instead of Kestrel: <c>builder.WebHost.UseParley();</c>.
    /// </summary>
    /// <param name="builder">The application's web host builder.</param>
    /// <param name="configure">Sets <see cref="ParleyServerOptions"/>; optional.</param>
    public static IWebHostBuilder UseParley(this IWebHostBuilder builder, Action<ParleyServerOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.ConfigureServices(services =>
        {
            if (configure is not null) services.Configure(configure);
            // Replaces the server already registered (Kestrel, by WebApplication.CreateBuilder).
            services.RemoveAll<IServer>();
            services.AddSingleton<IServer>(provider => new ParleyServer(
                provider.GetRequiredService<IOptions<ParleyServerOptions>>(),
                provider.GetRequiredService<ILoggerFactory>(),
                provider.GetRequiredService<IServiceScopeFactory>()));
        });
    }
}
