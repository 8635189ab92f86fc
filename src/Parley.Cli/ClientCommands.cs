using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Parley.Client;
using Parley.Content;

namespace Parley.Cli;

/// <summary><c>parley get</c>, <c>parley post</c> and <c>parley request</c>: a curl-like client with a live session trace.</summary>
internal static class ClientCommands
{
    public const int Success = 0, OtherFailure = 1, UsageError = 2, ConnectionFailure = 3, TimedOut = 4,
        MalformedResponse = 5, HttpError = 6, RedirectFailure = 7, CertificateNotTimeValid = 8, CertificateNameMismatch = 9,
        CertificateUntrusted = 10, TlsHandshakeFailed = 11, TlsVersionMismatch = 12, PlainHttpFromTlsServer = 13, TlsHandshakeTimeout = 14;

    private const int LargeBody = 1 << 20;

    /// <summary><c>parley get URL</c>.</summary>
    public static Command Get(TextWriter stdout, TextWriter stderr) => Create(stdout, stderr, "get", "Send a GET request and print the response body", fixedMethod: "GET", allowBody: false);

    /// <summary><c>parley post URL -d DATA | -F name=value</c>.</summary>
    public static Command Post(TextWriter stdout, TextWriter stderr) => Create(stdout, stderr, "post", "Send a POST with form data (-d raw or @file, -F name=value form-encoded)", fixedMethod: "POST", allowBody: true);

    /// <summary><c>parley request -X METHOD URL</c>.</summary>
    public static Command Request(TextWriter stdout, TextWriter stderr) => Create(stdout, stderr, "request", "Send a request with any method (-X)", fixedMethod: null, allowBody: true);

    private static Command Create(TextWriter stdout, TextWriter stderr, string name, string description, string? fixedMethod, bool allowBody)
    {
        var url = new Argument<string>("URL") { Description = "The http:// or https:// URL (http:// is assumed when no scheme is given)" };
        // "-1" or "--bogus" where the URL goes is an option this command does not have (UsageErrors names it).
        url.Validators.Add(result =>
        {
            if (result.Tokens is [{ Value: ['-', _, ..] value }]) result.AddError($"unknown option '{value}'");
        });
        var headers = OptionValues.Texts("--header", "Add a field 'Name: value' (repeatable)", HeaderProblem, "-H");
        var include = OptionValues.Flag("--include", "Print the status line and fields before the body (with -o, into the file)", "-i");
        var follow = OptionValues.Flag("--location", "Follow redirects (301, 302, 303, 307, 308)", "-L");
        var maxRedirects = OptionValues.Integer("--max-redirs", "Most redirects followed with -L", 0, 100, 10, "a number of redirects");
        var output = OptionValues.Text("--output", "Write the body to FILE (- for stdout, even a binary body on a terminal)", null, OutputProblem, "-o");
        var timeout = OptionValues.OptionalSeconds("--timeout", "Limit for the whole exchange, in seconds (default: none)", 0.001, 86400);
        var fail = OptionValues.Flag("--fail", "Exit with status 6, printing no body, when the HTTP status is 400 or more");
        var verbose = OptionValues.Flag("--verbose", "Print the session on stderr: connection, request as sent, response head, timing", "-v");
        var repeat = OptionValues.Integer("--repeat", "Send the same request N times over one keep-alive connection", 1, 10000, 1, "a number of requests");
        var compressed = OptionValues.Flag("--compressed", "Ask for gzip, deflate or br and decode the response");
        var data = OptionValues.Texts("--data", "Body data as sent (application/x-www-form-urlencoded); @FILE reads a file (repeatable, joined with &)", DataProblem, "-d");
        var form = OptionValues.Texts("--form", "A form field name=value, form-encoded for you (repeatable)", FormProblem, "-F");
        var method = OptionValues.Text("--request", "The method", "GET", MethodProblem, "-X");
        var caCert = OptionValues.Text("--cacert", "https: also trust the CA certificates in FILE (PEM), besides the system's", null, OptionValues.ExistingFile);
        var insecure = OptionValues.Flag("--insecure", "https: do not verify the server's certificate (prints a warning)", "-k");
        var clientCert = OptionValues.Text("--cert", "https: send the client certificate in FILE (PEM; with its key unless --key)", null, OptionValues.ExistingFile);
        var clientKey = OptionValues.Text("--key", "https: the private key (PEM) of the --cert certificate", null, OptionValues.ExistingFile);

        var command = new Command(name, description);
        command.Arguments.Add(url);
        foreach (Option option in new Option[] { headers, include, follow, maxRedirects, output, timeout, fail, verbose, repeat, compressed, caCert, insecure, clientCert, clientKey })
        {
            command.Options.Add(option);
        }
        if (allowBody)
        {
            command.Options.Add(data);
            command.Options.Add(form);
        }
        if (fixedMethod is null) command.Options.Add(method);

        command.SetAction((parse, cancellationToken) => RunAsync(new Settings
        {
            Url = parse.GetValue(url)!,
            Method = fixedMethod ?? parse.GetValue(method)!,
            Headers = parse.GetValue(headers) ?? [],
            Include = parse.GetValue(include),
            Follow = parse.GetValue(follow),
            MaxRedirects = parse.GetValue(maxRedirects),
            Output = parse.GetValue(output),
            Timeout = parse.GetValue(timeout),
            Fail = parse.GetValue(fail),
            Verbose = parse.GetValue(verbose),
            Repeat = parse.GetValue(repeat),
            Compressed = parse.GetValue(compressed),
            StdoutIsTerminal = !Console.IsOutputRedirected,
            Data = allowBody ? parse.GetValue(data) ?? [] : [],
            Form = allowBody ? parse.GetValue(form) ?? [] : [],
            CaCert = parse.GetValue(caCert),
            Insecure = parse.GetValue(insecure),
            ClientCert = parse.GetValue(clientCert),
            ClientKey = parse.GetValue(clientKey),
        }, stdout, stderr, cancellationToken));
        return command;
    }

    /// <summary>What the command line asked for.</summary>
    internal sealed record Settings
    {
        public required string Url { get; init; }
        public required string Method { get; init; }
        public string[] Headers { get; init; } = [];
        public bool Include { get; init; }
        public bool Follow { get; init; }
        public int MaxRedirects { get; init; } = 10;
        public string? Output { get; init; }
        public double? Timeout { get; init; }
        public bool Fail { get; init; }
        public bool Verbose { get; init; }
        public int Repeat { get; init; } = 1;
        public bool Compressed { get; init; }
        /// <summary>A binary body is not written to a terminal unless -o - asks for it (curl's rule).</summary>
        public bool StdoutIsTerminal { get; init; }
        public string[] Data { get; init; } = [];
        public string[] Form { get; init; } = [];
        public string? CaCert { get; init; }
        public bool Insecure { get; init; }
        public string? ClientCert { get; init; }
        public string? ClientKey { get; init; }
    }

    internal static async Task<int> RunAsync(Settings settings, TextWriter stdout, TextWriter stderr, CancellationToken cancellationToken)
    {
        ParleyRequest request;
        try
        {
            request = BuildRequest(settings);
        }
        catch (Exception ex) when (ex is ArgumentException or FormatException or UriFormatException or NotSupportedException or IOException)
        {
            return Report(stderr, UsageError, WithoutParameterName(ex.Message));
        }

        var printer = new SessionPrinter(stderr, settings.Verbose, settings.Include ? stdout : null);
        var options = new ParleyClientOptions
        {
            FollowRedirects = settings.Follow,
            MaxRedirects = settings.MaxRedirects,
            AutomaticDecompression = settings.Compressed,
            Observer = printer,
        };
        try
        {
            ConfigureTls(settings, options);
        }
        catch (Exception ex) when (ex is FormatException or IOException or UnauthorizedAccessException or CryptographicException)
        {
            return Report(stderr, UsageError, ex.Message);
        }
        if (settings.Insecure) stderr.WriteLine("parley: warning: --insecure: the server's certificate is not verified, so anyone on the path can impersonate the server");
        if (settings.Timeout is { } seconds)
        {
            TimeSpan limit = TimeSpan.FromSeconds(seconds);
            options.RequestTimeout = limit;
            if (limit < options.ConnectTimeout) options.ConnectTimeout = limit;
        }

        // -o FILE is opened before anything is sent, so a path that cannot be written costs no request.
        FileStream? outputFile = null;
        bool createdOutput = false;
        if (settings.Output is { } outputPath && outputPath != "-" && OpenOutput(outputPath, out outputFile, out createdOutput) is { } outputProblem)
        {
            return Report(stderr, OtherFailure, outputProblem);
        }
        int status = await ExchangeAsync(settings, request, options, printer, outputFile, stdout, stderr, cancellationToken).ConfigureAwait(false);
        if (outputFile is not null)
        {
            long written = outputFile.Length;
            await outputFile.DisposeAsync().ConfigureAwait(false);
            // A file this run created and never filled is not left behind by a failed request.
            if (status != Success && createdOutput && written == 0) File.Delete(outputFile.Name);
        }
        return status;
    }

    private static async Task<int> ExchangeAsync(Settings settings, ParleyRequest request, ParleyClientOptions options, SessionPrinter printer,
        FileStream? outputFile, TextWriter stdout, TextWriter stderr, CancellationToken cancellationToken)
    {
        using var client = new ParleyClient(options);
        Stream stdoutStream = Console.OpenStandardOutput();
        // The timing line shows the network, not the runtime compiling the socket code on first use.
        if (settings.Verbose) await NetworkWarmup.RunAsync(options.Transport, cancellationToken).ConfigureAwait(false);
        try
        {
            for (int i = 1; i <= settings.Repeat; i++)
            {
                printer.BeginRequest();
                var clock = Stopwatch.StartNew();
                // A request is sent again as it is: rebuild it so a stream body would start over.
                ParleyRequest current = i == 1 ? request : BuildRequest(settings);
                using ParleyResponse response = await client.SendAsync(current, cancellationToken).ConfigureAwait(false);
                if (settings.Fail && response.StatusCode >= 400)
                {
                    return Report(stderr, HttpError, $"{response.RequestUri} answered {response.StatusCode} {response.ReasonPhrase}");
                }
                if (settings.Include && outputFile is null)
                {
                    await stdout.WriteAsync(Encoding.Latin1.GetString(response.RawHead.Span)).ConfigureAwait(false);
                    await stdout.FlushAsync(cancellationToken).ConfigureAwait(false);
                }
                long bytes = await WriteBodyAsync(response, settings, stdout, stdoutStream, stderr, outputFile, cancellationToken).ConfigureAwait(false);
                printer.Flush();
                if (settings.Repeat > 1)
                {
                    stderr.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"* Request {i}/{settings.Repeat}: {response.StatusCode} {response.ReasonPhrase}, {bytes} bytes, {clock.Elapsed.TotalMilliseconds:0.###} ms, {printer.LastConnection}"));
                }
            }
            return Success;
        }
        catch (ParleyHttpException ex)
        {
            return Report(stderr, ex.Kind switch
            {
                ParleyErrorKind.NameResolutionFailed or ParleyErrorKind.ConnectFailed or ParleyErrorKind.ConnectionClosed => ConnectionFailure,
                ParleyErrorKind.Timeout => TimedOut,
                ParleyErrorKind.MalformedResponse => MalformedResponse,
                ParleyErrorKind.CertificateNotTimeValid => CertificateNotTimeValid,
                ParleyErrorKind.CertificateNameMismatch => CertificateNameMismatch,
                ParleyErrorKind.CertificateUntrusted => CertificateUntrusted,
                ParleyErrorKind.TlsHandshakeFailed => TlsHandshakeFailed,
                ParleyErrorKind.TlsProtocolVersionMismatch => TlsVersionMismatch,
                ParleyErrorKind.PlainHttpFromTlsServer => PlainHttpFromTlsServer,
                ParleyErrorKind.TlsHandshakeTimeout => TlsHandshakeTimeout,
                _ => RedirectFailure,
            }, ex.Message + Hint(ex.Kind));
        }
        catch (IOException ex)
        {
            return Report(stderr, OtherFailure, ex.Message);
        }
        catch (UnauthorizedAccessException ex)
        {
            return Report(stderr, OtherFailure, ex.Message);
        }
        catch (OperationCanceledException)
        {
            return Report(stderr, OtherFailure, "canceled");
        }
        catch (BinaryBodyRefused ex)
        {
            return Report(stderr, OtherFailure, ex.Message);
        }
    }

    /// <summary>Opens -o's file for writing without truncating it yet; a problem is one line naming -o and the path.</summary>
    private static string? OpenOutput(string path, out FileStream? file, out bool created)
    {
        file = null;
        created = false;
        string full = Path.GetFullPath(path);
        if (Directory.Exists(full)) return $"-o {path}: is a directory, not a file";
        string? parent = Path.GetDirectoryName(full);
        if (parent is not null && !Directory.Exists(parent)) return $"-o {path}: no such directory {parent}";
        created = !File.Exists(full);
        try
        {
            file = new FileStream(full, FileMode.OpenOrCreate, FileAccess.Write, FileShare.None, 1 << 16, useAsync: true);
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return $"-o {path}: permission denied";
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            // The directory exists (checked above) but refuses a new file: /proc, /sys and the like.
            return $"-o {path}: a file cannot be created in {parent}";
        }
        catch (IOException ex)
        {
            return $"-o {path}: cannot be written ({SystemReason(ex, full)})";
        }
    }

    /// <summary>The system's reason ("Read-only file system") without the " : 'path'" .NET appends on Unix.</summary>
    private static string SystemReason(IOException ex, string path)
    {
        string suffix = $" : '{path}'";
        return ex.Message.EndsWith(suffix, StringComparison.Ordinal) ? ex.Message[..^suffix.Length] : ex.Message;
    }

    /// <summary>The body is binary and stdout a terminal: it is not written there (curl's rule).</summary>
    private sealed class BinaryBodyRefused(string message) : Exception(message);

    private static ParleyRequest BuildRequest(Settings settings)
    {
        string url = settings.Url.Contains("://", StringComparison.Ordinal) ? settings.Url : "http://" + settings.Url;
        if (!Uri.TryCreate(url, UriKind.Absolute, out Uri? uri)) throw new UriFormatException($"invalid URL '{settings.Url}'");
        if (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps)
        {
            throw new NotSupportedException($"unsupported scheme '{uri.Scheme}': parley speaks http:// and https://");
        }
        var request = new ParleyRequest(settings.Method, uri);
        foreach (string header in settings.Headers)
        {
            int colon = header.IndexOf(':');
            if (colon <= 0) throw new FormatException($"-H wants 'Name: value', not '{header}'");
            request.Headers.Add(header[..colon].Trim(), header[(colon + 1)..].Trim());
        }
        if (settings.Data.Length > 0 && settings.Form.Length > 0) throw new ArgumentException("use either -d or -F, not both");
        if (settings.Data.Length > 0)
        {
            var body = new List<byte>();
            foreach (string item in settings.Data)
            {
                if (body.Count > 0) body.Add((byte)'&');
                body.AddRange(item.StartsWith('@') ? ReadDataFile(item[1..]) : Encoding.UTF8.GetBytes(item));
            }
            request.Content = ParleyContent.FromBytes(body.ToArray(), "application/x-www-form-urlencoded");
            // As curl does: a large body waits for the server's 100 Continue (RFC 9110 §10.1.1).
            request.ExpectContinue = body.Count > LargeBody;
        }
        else if (settings.Form.Length > 0)
        {
            var fields = new List<KeyValuePair<string, string>>();
            foreach (string item in settings.Form)
            {
                int equals = item.IndexOf('=');
                if (equals <= 0) throw new FormatException($"-F wants name=value, not '{item}'");
                fields.Add(new(item[..equals], item[(equals + 1)..]));
            }
            request.Content = ParleyContent.FromBytes(Encoding.ASCII.GetBytes(FormUrlEncoded.Encode(fields)), "application/x-www-form-urlencoded");
        }
        return request;
    }

    /// <summary>--cacert, -k, --cert/--key: the trust and identity options of https, read before anything is sent.</summary>
    private static void ConfigureTls(Settings settings, ParleyClientOptions options)
    {
        if (settings.CaCert is { } caFile)
        {
            RequireFile("--cacert", caFile);
            options.ExtraTrustedRoots.ImportFromPemFile(caFile);
            if (options.ExtraTrustedRoots.Count == 0) throw new FormatException($"--cacert {caFile}: no PEM certificate in the file");
        }
        if (settings.Insecure) options.ServerCertificateValidationCallback = static (_, _, _, _) => true;
        if (settings.ClientKey is not null && settings.ClientCert is null) throw new FormatException("--key goes with --cert");
        if (settings.ClientCert is { } certFile)
        {
            RequireFile("--cert", certFile);
            if (settings.ClientKey is not null) RequireFile("--key", settings.ClientKey);
            try
            {
                options.ClientCertificate = X509Certificate2.CreateFromPemFile(certFile, settings.ClientKey);
            }
            catch (CryptographicException ex)
            {
                throw new FormatException(settings.ClientKey is null
                    ? $"--cert {certFile}: needs a PEM certificate and its private key in the file (or the key in --key): {ex.Message}"
                    : $"--cert {certFile} --key {settings.ClientKey}: not a PEM certificate and its matching private key: {ex.Message}");
            }
        }
    }

    private static void RequireFile(string option, string path)
    {
        if (!File.Exists(path)) throw new FormatException($"{option} {path}: no such file");
    }

    /// <summary>What to try next, after a certificate or TLS failure.</summary>
    private static string Hint(ParleyErrorKind kind) =>
        kind == ParleyErrorKind.CertificateUntrusted ? " (trust its CA with --cacert FILE, or skip verification with -k)" : "";

    private static async Task<long> WriteBodyAsync(ParleyResponse response, Settings settings, TextWriter stdout, Stream stdoutStream,
        TextWriter stderr, FileStream? file, CancellationToken cancellationToken)
    {
        if (file is null)
        {
            await stdout.FlushAsync(cancellationToken).ConfigureAwait(false);
            string? refuseBinary = settings.Output is null && settings.StdoutIsTerminal
                ? $"the response body is binary ({response.Headers["Content-Type"] ?? "no Content-Type"}): not written to the terminal; save it with -o FILE, or print it anyway with -o -"
                : null;
            return await CopyAsync(response.Body, stdoutStream, null, refuseBinary, cancellationToken).ConfigureAwait(false);
        }
        // --repeat writes the file again; -i puts the head in the file too, as curl does.
        file.SetLength(0);
        if (settings.Include) await file.WriteAsync(response.RawHead, cancellationToken).ConfigureAwait(false);
        ProgressBar? progress = Console.IsErrorRedirected ? null : new ProgressBar(stderr, response.DecodedContentEncoding is null ? response.ContentLength : null);
        long total = await CopyAsync(response.Body, file, progress, null, cancellationToken).ConfigureAwait(false);
        progress?.Finish(total, settings.Output!);
        return total;
    }

    internal static async Task<long> CopyAsync(Stream source, Stream destination, ProgressBar? progress, string? refuseBinary, CancellationToken cancellationToken)
    {
        byte[] buffer = new byte[64 * 1024];
        long total = 0;
        int read;
        while ((read = await source.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
        {
            // curl's test: a NUL byte in the first block read means binary.
            if (total == 0 && refuseBinary is not null && buffer.AsSpan(0, read).Contains((byte)0)) throw new BinaryBodyRefused(refuseBinary);
            await destination.WriteAsync(buffer.AsMemory(0, read), cancellationToken).ConfigureAwait(false);
            total += read;
            progress?.Update(total);
        }
        await destination.FlushAsync(cancellationToken).ConfigureAwait(false);
        return total;
    }

    private static byte[] ReadDataFile(string path)
    {
        if (Directory.Exists(path)) throw new FormatException($"-d @{path}: is a directory, not a file");
        try
        {
            return File.ReadAllBytes(path);
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new FormatException($"-d @{path}: no such file");
        }
        catch (UnauthorizedAccessException)
        {
            throw new FormatException($"-d @{path}: permission denied");
        }
    }

    /// <summary>An ArgumentException's message without the "(Parameter 'name')" .NET appends.</summary>
    private static string WithoutParameterName(string message)
    {
        int suffix = message.LastIndexOf(" (Parameter '", StringComparison.Ordinal);
        return suffix > 0 && message.EndsWith("')", StringComparison.Ordinal) ? message[..suffix] : message;
    }

    private static string? HeaderProblem(string header)
    {
        int colon = header.IndexOf(':');
        return colon <= 0 || header[..colon].Trim().Length == 0 || !IsToken(header[..colon].Trim())
            ? $"wants 'Name: value', not '{header}'"
            : header.AsSpan().IndexOfAny('\r', '\n', '\0') >= 0 ? "wants a single-line field value" : null;
    }

    private static string? OutputProblem(string path) =>
        path.Length == 0 ? "wants a file name (or - for stdout), not an empty string" : null;

    private static string? DataProblem(string data) =>
        data == "@" ? "wants a file name after @" : null;

    private static string? FormProblem(string field) =>
        field.IndexOf('=') <= 0 ? $"wants name=value, not '{field}'" : null;

    /// <summary>RFC 9110 §9.1: method = token.</summary>
    private static string? MethodProblem(string method) =>
        IsToken(method) ? null : $"wants a method such as GET, PUT or DELETE (a token), not '{method}'";

    /// <summary>RFC 9110 §5.6.2: token = 1*tchar.</summary>
    private static bool IsToken(string text) =>
        text.Length > 0 && text.All(c => c < 0x7F && (char.IsAsciiLetterOrDigit(c) || "!#$%&'*+-.^_`|~".Contains(c)));

    private static int Report(TextWriter stderr, int code, string message)
    {
        stderr.WriteLine($"parley: {message}");
        return code;
    }
}
