using System.Net.Security;
using System.Security.Cryptography.X509Certificates;

namespace Parley.Server;

/// <summary>
/// A certificate with its private key (and the intermediate certificates sent with it) that a TLS listener
/// presents. Made from PEM files, a PKCS#12 file or an <see cref="X509Certificate2"/>. One made from files
/// is reloaded when the files change (the server looks every few seconds): new handshakes get the new
/// certificate, connections already open keep theirs. A file that fails to load (half written, a key that
/// does not match) is reported to the error log and the previous certificate stays in use.
/// </summary>
public sealed class ServerCertificate
{
    private readonly Func<(X509Certificate2 Leaf, X509Certificate2Collection Intermediates)>? _load;
    private readonly string[] _files;
    private (DateTime, long)[] _stamps;
    private volatile Loaded _current;

    private ServerCertificate(Func<(X509Certificate2, X509Certificate2Collection)>? load, string[] files, X509Certificate2 leaf, X509Certificate2Collection intermediates)
    {
        _load = load;
        _files = files;
        _stamps = Stamp(files);
        _current = Create(leaf, intermediates);
    }

    /// <summary>
    /// From PEM files: <paramref name="certificatePath"/> holds the certificate, optionally followed by its
    /// intermediates; <paramref name="keyPath"/> its private key (PKCS#8, PKCS#1 or SEC1), encrypted
    /// (<c>ENCRYPTED PRIVATE KEY</c>) when <paramref name="keyPassword"/> is given.
    /// </summary>
    /// <exception cref="System.Security.Cryptography.CryptographicException">The files do not hold a certificate and its matching key.</exception>
    public static ServerCertificate FromPemFiles(string certificatePath, string keyPath, string? keyPassword = null)
    {
        certificatePath = Path.GetFullPath(certificatePath);
        keyPath = Path.GetFullPath(keyPath);
        Func<(X509Certificate2, X509Certificate2Collection)> load = () =>
        {
            X509Certificate2 leaf = keyPassword is null
                ? X509Certificate2.CreateFromPemFile(certificatePath, keyPath)
                : X509Certificate2.CreateFromEncryptedPemFile(certificatePath, keyPassword, keyPath);
            var all = new X509Certificate2Collection();
            all.ImportFromPemFile(certificatePath);
            var intermediates = new X509Certificate2Collection();
            foreach (X509Certificate2 certificate in all)
            {
                if (certificate.Thumbprint != leaf.Thumbprint) intermediates.Add(certificate);
            }
            return (leaf, intermediates);
        };
        (X509Certificate2 leaf, X509Certificate2Collection intermediates) = load();
        return new ServerCertificate(load, [certificatePath, keyPath], leaf, intermediates);
    }

    /// <summary>From a PKCS#12 (.pfx/.p12) file holding the certificate with its key, and any intermediates.</summary>
    /// <exception cref="System.Security.Cryptography.CryptographicException">The file is not PKCS#12, the password is wrong, or no certificate in it has a key.</exception>
    public static ServerCertificate FromPfxFile(string path, string? password = null)
    {
        path = Path.GetFullPath(path);
        Func<(X509Certificate2, X509Certificate2Collection)> load = () =>
        {
            X509Certificate2Collection all = X509CertificateLoader.LoadPkcs12CollectionFromFile(path, password);
            X509Certificate2? leaf = null;
            var intermediates = new X509Certificate2Collection();
            foreach (X509Certificate2 certificate in all)
            {
                if (leaf is null && certificate.HasPrivateKey) leaf = certificate;
                else intermediates.Add(certificate);
            }
            return (leaf ?? throw new System.Security.Cryptography.CryptographicException($"{path} holds no certificate with a private key"), intermediates);
        };
        (X509Certificate2 leaf, X509Certificate2Collection intermediates) = load();
        return new ServerCertificate(load, [path], leaf, intermediates);
    }

    /// <summary>From a certificate that has its private key, with the intermediates to send after it (none by default). Never reloaded.</summary>
    public static ServerCertificate FromCertificate(X509Certificate2 certificate, X509Certificate2Collection? intermediates = null)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        if (!certificate.HasPrivateKey) throw new ArgumentException("the certificate has no private key", nameof(certificate));
        return new ServerCertificate(null, [], certificate, intermediates ?? []);
    }

    /// <summary>The certificate presented now (the latest one loaded).</summary>
    public X509Certificate2 Certificate => _current.Leaf;

    /// <summary>The files it was loaded from and is reloaded from when they change; empty for one made from an object.</summary>
    public IReadOnlyList<string> Files => _files;

    /// <summary>The certificate with its chain, built once per load: SslStream keeps its TLS context (and so session resumption) on it.</summary>
    internal SslStreamCertificateContext Context => _current.Context;

    /// <summary>Changes with every successful reload, so that options built on an older context are rebuilt.</summary>
    internal int Generation => _current.Generation;

    /// <summary>
    /// Loads the files again if they changed since the last look (<see cref="Generation"/> then moves on).
    /// A failed load is reported and the current certificate kept; it is retried when the files change again.
    /// </summary>
    internal void ReloadIfChanged(Action<string, Exception?>? errorLog)
    {
        if (_load is null) return;
        (DateTime, long)[] stamps = Stamp(_files);
        if (stamps.AsSpan().SequenceEqual(_stamps)) return;
        _stamps = stamps;
        try
        {
            (X509Certificate2 leaf, X509Certificate2Collection intermediates) = _load();
            Loaded next = Create(leaf, intermediates);
            next.Generation = _current.Generation + 1;
            _current = next;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or System.Security.Cryptography.CryptographicException or ArgumentException)
        {
            errorLog.Report($"certificate {string.Join(", ", _files)} changed but could not be loaded (keeping the previous one): {ex.Message}", null);
        }
    }

    private static Loaded Create(X509Certificate2 leaf, X509Certificate2Collection intermediates) =>
        // offline: the chain is built from what we were given and the local stores, never fetched during startup or a reload.
        new(leaf, SslStreamCertificateContext.Create(leaf, intermediates, offline: true));

    private static (DateTime, long)[] Stamp(string[] files)
    {
        var stamps = new (DateTime, long)[files.Length];
        for (int i = 0; i < files.Length; i++)
        {
            var info = new FileInfo(files[i]);
            stamps[i] = info.Exists ? (info.LastWriteTimeUtc, info.Length) : (DateTime.MinValue, -1);
        }
        return stamps;
    }

    private sealed class Loaded(X509Certificate2 leaf, SslStreamCertificateContext context)
    {
        public X509Certificate2 Leaf { get; } = leaf;
        public SslStreamCertificateContext Context { get; } = context;
        public int Generation { get; set; }
    }
}
