using System.Diagnostics.CodeAnalysis;

namespace Parley;

/// <summary>
/// The <c>Parley.Telemetry.IsSupported</c> feature switch. Off, every metric and span call site of the
/// server and the client is skipped before it reads an instrument: the JIT folds the check away (a static
/// readonly value) and trimming removes the code, so the engine runs as a build without instruments.
/// Set it with <c>&lt;RuntimeHostConfigurationOption Include="Parley.Telemetry.IsSupported" Value="false"
/// Trim="true" /&gt;</c> in the app's project, or in <c>runtimeconfig.json</c>'s <c>configProperties</c>.
/// </summary>
internal static class TelemetrySupport
{
    private const string Switch = "Parley.Telemetry.IsSupported";

    [FeatureSwitchDefinition(Switch)]
    public static bool IsSupported { get; } = !AppContext.TryGetSwitch(Switch, out bool enabled) || enabled;
}
