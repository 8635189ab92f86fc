using System.CommandLine;
using Parley.Cli;

RootCommand root = new("parley: an HTTP/1.1 server, client and teaching tool");
root.Subcommands.Add(ServeCommand.Create());
root.Subcommands.Add(ClientCommands.Get());
root.Subcommands.Add(ClientCommands.Post());
root.Subcommands.Add(ClientCommands.Request());
ParseResult parsed = root.Parse(args);
// Usage errors exit with 2, as the client commands document (System.CommandLine's default is 1).
return parsed.Errors.Count > 0 && parsed.Action is System.CommandLine.Invocation.ParseErrorAction ? await UsageAsync(parsed) : await parsed.InvokeAsync();

static async Task<int> UsageAsync(ParseResult parsed)
{
    await parsed.InvokeAsync();
    return ClientCommands.UsageError;
}
