using System.CommandLine;
using Parley.Cli;

RootCommand root = new("parley: an HTTP/1.1 server, client and teaching tool");
root.Subcommands.Add(ServeCommand.Create());
return await root.Parse(args).InvokeAsync();
