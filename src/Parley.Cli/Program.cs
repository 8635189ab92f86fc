using Parley.Cli;

return await ParleyCommandLine.RunAsync(args, Console.Out, Console.Error);
