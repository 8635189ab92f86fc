using Parley.Fuzz;
using SharpFuzz;

// Usage (under afl-fuzz, see scripts/fuzz.sh): Parley.Fuzz TARGET
// Reads one input per run from AFL++ and hands it to the target; any exception is a finding.
// Nothing of the instrumented Parley.dll may run before Fuzzer.OutOfProcess.Run has attached AFL's
// shared memory (not even FuzzTargets' static initializer), hence the literal list of names here.
string[] names = ["request", "chunked", "response", "form", "multipart", "range", "route", "query", "proxy", "forwarded"];
if (args.Length != 1 || Array.IndexOf(names, args[0]) < 0)
{
    Console.Error.WriteLine($"usage: Parley.Fuzz {string.Join('|', names)}");
    return 2;
}
string target = args[0];
Fuzzer.OutOfProcess.Run(stream =>
{
    using var memory = new MemoryStream();
    stream.CopyTo(memory);
    FuzzTargets.Run(target, memory.ToArray());
});
return 0;
