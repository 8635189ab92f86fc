using System.CommandLine;
var root = new RootCommand("parley");
var serve = new Command("serve", "Serve");
var portOpt = new Option<int>("--port") { Description = "port", DefaultValueFactory = _ => 8080 };
serve.Options.Add(portOpt);
serve.SetAction(pr => { Console.WriteLine(pr.GetValue(portOpt)); return 0; });
root.Subcommands.Add(serve);
return root.Parse(args).Invoke();
