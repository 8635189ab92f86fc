using System.Diagnostics;
using System.Reflection;

namespace Parley.Tests.Server;

/// <summary>
/// Records which tests start a <see cref="TestServer"/> whose transport the environment chooses
/// (PARLEY_TEST_TRANSPORT), when PARLEY_TEST_SERVER_LOG names a file: the test command reruns exactly
/// those on the epoll transport, so the rerun's count holds only tests the transport can change. Tests of
/// <see cref="TransportTests"/> classes are left out: they run on both transports by themselves.
/// </summary>
internal static class TestServerUsers
{
    private static readonly object Lock = new();

    public static void Record()
    {
        if (Environment.GetEnvironmentVariable("PARLEY_TEST_SERVER_LOG") is not { Length: > 0 } log) return;
        string? name = CallingTest();
        if (name is null) return;
        lock (Lock) File.AppendAllText(log, name + "\n");
    }

    // The test method on the stack ("Class.Method"), or else the class of the innermost test-class frame
    // ("Class.") when the server is started from its constructor, its InitializeAsync, or a helper that
    // had already awaited something (the test's own frame is then no longer on the stack).
    private static string? CallingTest()
    {
        Assembly tests = typeof(TestServer).Assembly;
        Type? innermost = null;
        foreach (StackFrame frame in new StackTrace().GetFrames())
        {
            MethodBase? method = frame.GetMethod();
            Type? type = method?.DeclaringType;
            string? methodName = method?.Name;
            // An async method runs as MoveNext of a nested "<Method>d__N" type.
            if (type is { DeclaringType: not null } && type.Name.StartsWith('<'))
            {
                methodName = type.Name[1..type.Name.IndexOf('>')];
                type = type.DeclaringType;
            }
            if (type is null || type.Assembly != tests || !IsTestClass(type)) continue;
            if (typeof(TransportTests).IsAssignableFrom(type)) return null;
            if (type.GetMethods().Any(m => m.Name == methodName && m.GetCustomAttributes<FactAttribute>().Any())) return $"{type.FullName}.{methodName}";
            innermost ??= type;
        }
        return innermost is null ? "unattributed" : $"{innermost.FullName}.";
    }

    private static bool IsTestClass(Type type) => type.GetMethods().Any(m => m.GetCustomAttributes<FactAttribute>().Any());
}
