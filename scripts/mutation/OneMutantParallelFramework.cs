// Built only into the test project of scripts/mutation.sh's private copy, never in the working tree.
//
// Stryker's run settings switch xunit's parallel test classes off in every session. It needs that while
// it records which test covers which mutant, and when one session tests several mutants whose tests do
// not overlap (the active mutant then changes at each test's start). A session that tests one mutant has
// it active for every test from the first (the collector maps every test to it): there, test classes may
// run side by side as in a normal run. Most of a live-server pass is tests waiting on a server's
// timeouts, so this cuts a surviving mutant's pass from minutes to about the longest class.
// In such a session one failed test decides the mutant (Stryker counts it killed whatever the other tests
// do), so the session ends soon after the first failure: a killed mutant no longer costs a pass.
using System.Reflection;
using Xunit.Abstractions;
using Xunit.Sdk;

[assembly: Xunit.TestFramework("Parley.Tests.Mutation.OneMutantParallelFramework", "Parley.Tests")]

namespace Parley.Tests.Mutation;

public sealed class OneMutantParallelFramework(IMessageSink messageSink) : XunitTestFramework(messageSink)
{
    protected override ITestFrameworkExecutor CreateExecutor(AssemblyName assemblyName) =>
        new Executor(assemblyName, SourceInformationProvider, DiagnosticMessageSink);

    private sealed class Executor(AssemblyName name, ISourceInformationProvider sources, IMessageSink diagnostics)
        : XunitTestFrameworkExecutor(name, sources, diagnostics)
    {
        protected override void RunTestCases(IEnumerable<IXunitTestCase> testCases, IMessageSink executionMessageSink,
            ITestFrameworkExecutionOptions executionOptions)
        {
            var (capturing, active) = MutantControlState();
            // The initial run has no collector and no active mutant. The coverage session and a session
            // of several mutants (the collector starts it with -1, no mutant for every test) stay one
            // test at a time.
            bool collector = AppDomain.CurrentDomain.GetAssemblies().Any(a => a.GetName().Name == "Stryker.DataCollector");
            if (!collector || (!capturing && active >= 0))
            {
                executionOptions.SetValue("xunit.execution.DisableParallelization", false);
                executionOptions.SetValue("xunit.execution.MaxParallelThreads", Setting("PARLEY_MUTATION_TEST_THREADS", 8));
            }
            if (!capturing && active >= 0)
            {
                EndSessionAtDeadline(active, Setting("PARLEY_MUTATION_SESSION_SECONDS", 150));
                executionMessageSink = new StopAfterFirstFailure(executionMessageSink, active, Setting("PARLEY_MUTATION_GRACE_SECONDS", 5));
            }
            base.RunTestCases(testCases, executionMessageSink, executionOptions);
        }
    }

    // xunit cancels a run when its sink answers false: no further test starts. The failure itself is passed
    // on first, so Stryker has the killing test. Tests already running would still be waited for, and with a
    // mutant that makes the server hang they each sit out their own timeouts (tens of seconds), so after a
    // grace for the result to reach Stryker the test host exits: Stryker counts the tests that did not
    // report as timed out, and the mutant as killed, since a covering test failed.
    private sealed class StopAfterFirstFailure(IMessageSink inner, int mutant, int graceSeconds) : LongLivedMarshalByRefObject, IMessageSink
    {
        private int _failed;

        public bool OnMessage(IMessageSinkMessage message)
        {
            bool first = message is ITestFailed && Interlocked.Exchange(ref _failed, 1) == 0;
            bool keepGoing = inner.OnMessage(message) && Volatile.Read(ref _failed) == 0;
            if (first)
                EndProcessAfter(graceSeconds, $"mutant {mutant} is killed ({((ITestFailed)message).Test.DisplayName} failed)");
            return keepGoing;
        }
    }

    private static void EndProcessAfter(int seconds, string why)
    {
        var timer = new Thread(() =>
        {
            Thread.Sleep(TimeSpan.FromSeconds(seconds));
            Console.Error.WriteLine($"mutation: {why}; ending its session");
            Environment.Exit(125);
        }) { IsBackground = true, Name = "mutation session end" };
        timer.Start();
    }

    // A mutant that makes a test hang would hold the session until Stryker's own timeout, which it sizes
    // from the sum of the covering tests' times one by one (about five minutes for code every request
    // runs). A whole pass side by side takes under a minute, so past the deadline the session ends: the
    // test host exits, and Stryker reports the tests still running as timed out, as it does at its own.
    private static void EndSessionAtDeadline(int mutant, int seconds) =>
        EndProcessAfter(seconds, $"mutant {mutant}'s session passed its {seconds} s deadline");

    // Stryker's data collector sets MutantControl's fields as the mutated assembly loads (touching
    // HttpServer loads it): CaptureCoverage in the coverage session, ActiveMutant in a mutant's session.
    private static (bool Capturing, int Active) MutantControlState()
    {
        var control = typeof(Parley.Server.HttpServer).Assembly.GetTypes().FirstOrDefault(t => t.Name == "MutantControl");
        if (control is null)
            return (true, -1);
        var capturing = control.GetField("CaptureCoverage")?.GetValue(null) as bool? ?? true;
        var active = control.GetField("ActiveMutant")?.GetValue(null) as int? ?? -1;
        return (capturing, active);
    }

    private static int Setting(string name, int fallback) =>
        int.TryParse(Environment.GetEnvironmentVariable(name), out var n) && n > 0 ? n : fallback;
}
