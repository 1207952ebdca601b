using System.Text.Json;
using Orchestrator.Trainer.Runtime;
using Orchestrator.Trainer.Tensors;

namespace Orchestrator.Trainer.Checkpointing;

/// <summary>
/// A directory of checkpoints, each a folder committed by rename. A save writes every file into a hidden
/// temporary folder, the manifest last, each one's writeback started as it is written; it fsyncs them all and
/// the folder, renames the folder into place, fsyncs the parent, and only then moves the <c>latest</c>
/// pointer. A process killed at any instant leaves either the old set of checkpoints or the old set plus one
/// complete new checkpoint.
/// <c>latest</c> is for people and tools: resume scans the folders and verifies them, never trusting the
/// pointer. So the pointer's move costs no fsync round of its own: its new content is synced with the
/// checkpoint's files, and the rename reaches the disk with the next save's commit. After a power loss it
/// may name the checkpoint before the newest, never one that is not committed.
/// </summary>
public sealed class CheckpointStore
{
    public const string LatestPointerFile = "latest";
    private const string TemporaryPrefix = ".tmp-";
    private const string DiscardPrefix = ".discard-";

    public CheckpointStore(string directory, CheckpointNaming naming)
    {
        Directory = Path.GetFullPath(directory);
        Naming = naming;
    }

    public string Directory { get; }

    public CheckpointNaming Naming { get; }

    public string? LatestPointer
    {
        // Only a small regular file: a pointer replaced by a link to a device must not hang a listing.
        get => CheckpointFileGuard.ReadSmallFile(Path.Combine(Directory, LatestPointerFile), 4096) is { } bytes ? System.Text.Encoding.UTF8.GetString(bytes).Trim() : null;
    }

    /// <summary>Committed checkpoints, newest (largest iteration) first. Valid or not: see <see cref="Verify"/>.</summary>
    public IReadOnlyList<CheckpointEntry> List()
    {
        if (!System.IO.Directory.Exists(Directory))
        {
            return [];
        }
        return System.IO.Directory.EnumerateDirectories(Directory)
            .Select(path => (path, name: Path.GetFileName(path)))
            .Where(d => !d.name.StartsWith('.'))
            .Select(d => Naming.TryParse(d.name, out var iteration) ? new CheckpointEntry(d.name, iteration, d.path) : null)
            .OfType<CheckpointEntry>()
            .OrderByDescending(e => e.Iteration)
            .ToList();
    }

    /// <summary>Removes folders of saves that never committed; they can only be left by a killed process.</summary>
    public int RemoveAbandonedSaves()
    {
        if (!System.IO.Directory.Exists(Directory))
        {
            return 0;
        }
        var abandoned = System.IO.Directory.EnumerateDirectories(Directory)
            .Where(p => Path.GetFileName(p).StartsWith(TemporaryPrefix, StringComparison.Ordinal)
                || Path.GetFileName(p).StartsWith(DiscardPrefix, StringComparison.Ordinal))
            .ToList();
        foreach (var path in abandoned)
        {
            System.IO.Directory.Delete(path, recursive: true);
        }
        // New contents of the latest pointer that a killed save never renamed into place.
        var pointers = System.IO.Directory.EnumerateFiles(Directory, $"{TemporaryPrefix}{LatestPointerFile}-*").ToList();
        foreach (var path in pointers)
        {
            File.Delete(path);
        }
        return abandoned.Count;
    }

    public CommitResult Commit(ISnapshotContents snapshot)
    {
        System.IO.Directory.CreateDirectory(Directory);
        var name = Naming.Format(snapshot.Info.Iteration, snapshot.Info.Epoch);
        var final = Path.Combine(Directory, name);
        // weights-sha256 goes into the manifest, which is written after the tensor files: it is computed on
        // another core while they are written instead of in a pass of its own before them.
        var digest = snapshot.WeightsDigest();
        if (System.IO.Directory.Exists(final))
        {
            if (Verify(final).IsValid)
            {
                return new CommitResult(name, final, 0, AlreadyPresent: true, digest.GetAwaiter().GetResult());
            }
            Discard(final);
        }
        var temporary = Path.Combine(Directory, $"{TemporaryPrefix}{name}-{Guid.NewGuid():N}");
        System.IO.Directory.CreateDirectory(temporary);
        var files = new Dictionary<string, ManifestEntry>(StringComparer.Ordinal);
        var components = new Dictionary<string, ComponentEntry>(StringComparer.Ordinal);
        foreach (var component in snapshot.ComponentNames)
        {
            var state = snapshot.Component(component);
            string? tensorFile = null;
            string? blobFile = null;
            byte[]? inlineTensors = null;
            if (state.Tensors.Count > 0 && CheckpointFormat.KeepsInline(component, state.Tensors))
            {
                using var inline = new MemoryStream();
                TensorFile.Write(inline, state.Tensors);
                inlineTensors = inline.ToArray();
            }
            else if (state.Tensors.Count > 0)
            {
                tensorFile = CheckpointFormat.TensorFileFor(component);
                files[tensorFile] = HashingFileWriter.Write(Path.Combine(temporary, tensorFile), s => TensorFile.Write(s, state.Tensors));
                KillPoints.Reach($"save:wrote-{tensorFile}");
            }
            if (state.Blob is not null)
            {
                blobFile = CheckpointFormat.BlobFileFor(component);
                files[blobFile] = HashingFileWriter.Write(Path.Combine(temporary, blobFile), s => s.Write(state.Blob));
                KillPoints.Reach($"save:wrote-{blobFile}");
            }
            components[component] = new ComponentEntry(tensorFile, blobFile, state.Metadata, inlineTensors);
        }
        var info = snapshot.Info with { WeightsSha256 = digest.GetAwaiter().GetResult() };
        var manifest = new CheckpointManifest(null, CheckpointFormat.FormatName, name, snapshot.Info.Iteration, files, info, components);
        var manifestBytes = ManifestSeal.Sealed(manifest);
        DurableFiles.WriteNewFile(Path.Combine(temporary, CheckpointFormat.ManifestFile), manifestBytes);
        KillPoints.Reach("save:wrote-manifest");
        var pointer = Path.Combine(Directory, $"{TemporaryPrefix}{LatestPointerFile}-{Guid.NewGuid():N}");
        DurableFiles.WriteNewFile(pointer, System.Text.Encoding.UTF8.GetBytes(name + "\n"));
        // Nothing reads a temporary folder, so the order in which its files reach the disk does not matter,
        // only that all of them (and the folder's entries) have before the rename below.
        var written = files.Keys.Append(CheckpointFormat.ManifestFile).Select(f => Path.Combine(temporary, f)).Append(pointer).ToList();
        DurableFiles.SyncAll(written, temporary);
        KillPoints.Reach("save:synced");
        System.IO.Directory.Move(temporary, final);
        KillPoints.Reach("save:renamed");
        DurableFiles.SyncDirectory(Directory);
        KillPoints.Reach("save:committed");
        File.Move(pointer, Path.Combine(Directory, LatestPointerFile), overwrite: true);
        KillPoints.Reach("save:pointer-moved");
        return new CommitResult(name, final, files.Values.Sum(f => f.Bytes) + manifestBytes.Length, AlreadyPresent: false, info.WeightsSha256);
    }

    public VerificationResult Verify(string checkpointPath)
    {
        var name = Path.GetFileName(Path.TrimEndingDirectorySeparator(checkpointPath));
        try
        {
            ReadVerified(checkpointPath, loadContents: false, out var checksum);
            return new VerificationResult(name, checkpointPath, null, checksum);
        }
        catch (CorruptCheckpointException e)
        {
            return new VerificationResult(name, checkpointPath, e.Message);
        }
    }

    public LoadedCheckpoint Load(string checkpointPath) => ReadVerified(checkpointPath, loadContents: true);

    /// <summary>The newest checkpoint that verifies, and one line for each newer one that did not; <paramref name="refused"/> names checkpoints already refused (and reported) that are passed over.</summary>
    public (LoadedCheckpoint? Checkpoint, IReadOnlyList<string> Skipped) LoadLatestValid(IReadOnlySet<string>? refused = null) => Latest(loadContents: true, refused);

    /// <summary>
    /// Like <see cref="LoadLatestValid"/>, every file verified, but only the info is kept (no tensors): for
    /// choosing where to restart when the ranks will load the checkpoint themselves.
    /// </summary>
    public (LoadedCheckpoint? Checkpoint, IReadOnlyList<string> Skipped) FindLatestValid(IReadOnlySet<string>? refused = null) => Latest(loadContents: false, refused);

    /// <summary>One checkpoint verified, its info kept (no tensors); throws <see cref="CorruptCheckpointException"/> when it does not verify.</summary>
    public LoadedCheckpoint LoadInfo(string checkpointPath) => ReadVerified(checkpointPath, loadContents: false);

    private (LoadedCheckpoint? Checkpoint, IReadOnlyList<string> Skipped) Latest(bool loadContents, IReadOnlySet<string>? refused)
    {
        var skipped = new List<string>();
        foreach (var entry in List().Where(e => refused?.Contains(e.Name) != true))
        {
            try
            {
                return (ReadVerified(entry.Path, loadContents), skipped);
            }
            catch (CorruptCheckpointException e)
            {
                skipped.Add(e.Message);
            }
        }
        return (null, skipped);
    }

    /// <summary>
    /// Keeps the newest <paramref name="keep"/> checkpoints (0 keeps all), never deleting a protected one: the
    /// caller protects the checkpoint the run resumed from and the one it just committed (the newest valid).
    /// </summary>
    public IReadOnlyList<string> ApplyRetention(int keep, IReadOnlySet<string> protectedNames)
    {
        if (keep <= 0)
        {
            return [];
        }
        var deleted = new List<string>();
        foreach (var entry in List().Skip(keep).Where(e => !protectedNames.Contains(e.Name)))
        {
            Discard(entry.Path);
            deleted.Add(entry.Name);
        }
        return deleted;
    }

    /// <summary>Deletes every checkpoint and the latest pointer (a fresh start asked for explicitly).</summary>
    public int DeleteAll()
    {
        if (!System.IO.Directory.Exists(Directory))
        {
            return 0;
        }
        var entries = List();
        foreach (var entry in entries)
        {
            Discard(entry.Path);
        }
        File.Delete(Path.Combine(Directory, LatestPointerFile));
        return entries.Count;
    }

    // A folder is renamed out of the checkpoint namespace first, so a half-deleted one never looks committed.
    private void Discard(string path)
    {
        var discarded = Path.Combine(Directory, $"{DiscardPrefix}{Path.GetFileName(path)}-{Guid.NewGuid():N}");
        System.IO.Directory.Move(path, discarded);
        System.IO.Directory.Delete(discarded, recursive: true);
    }

    private static LoadedCheckpoint ReadVerified(string checkpointPath, bool loadContents) => ReadVerified(checkpointPath, loadContents, out _);

    /// <summary>
    /// Checks every file against the manifest (a plain name, present as a regular file, then its size, then its
    /// hash, each name checked before any file is opened: see <see cref="CheckpointFileGuard"/>) and, with
    /// <paramref name="loadContents"/>, keeps what it read: each file is read once, straight into the arrays
    /// the caller gets, and hashed in the same pass. A file whose hash does not match is reported as corrupt
    /// even if it also failed to parse.
    /// </summary>
    private static LoadedCheckpoint ReadVerified(string checkpointPath, bool loadContents, out string checksum)
    {
        var folderName = Path.GetFileName(Path.TrimEndingDirectorySeparator(checkpointPath));
        var name = PrintableText.Escape(folderName); // for messages: a folder's name can hold a newline
        var manifest = ReadManifest(checkpointPath, name);
        using (var probe = manifest.NewChecksum())
        {
            checksum = probe.Name;
        }
        var ordered = manifest.Files.OrderBy(f => f.Key, StringComparer.Ordinal).ToList();
        ordered.ForEach(f => CheckpointFileGuard.RequirePlainName(name, f.Key));
        ordered.ForEach(f => CheckpointFileGuard.OpenEntry(name, checkpointPath, f.Key, f.Value.Bytes).Dispose());
        var (info, entries) = manifest.HoldsMetadata ? (manifest.Info!, manifest.Components!) : ReadMetadataFile(checkpointPath, name, manifest);
        SealedCounters.Require(name, manifest, info);
        OptimizerBlobBound.Require(name, manifest, entries);
        var tensorFiles = new Dictionary<string, List<KeyValuePair<string, HostTensor>>>(StringComparer.Ordinal);
        var blobFiles = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        var wantedTensors = entries.Values.Select(c => c.TensorFile).OfType<string>().ToHashSet(StringComparer.Ordinal);
        var wantedBlobs = entries.Values.Select(c => c.BlobFile).OfType<string>().ToHashSet(StringComparer.Ordinal);
        var rest = manifest.Files.Where(f => manifest.HoldsMetadata || f.Key != CheckpointFormat.MetadataFile).OrderBy(f => f.Key, StringComparer.Ordinal).ToList();
        var read = new object?[rest.Count];
        var failures = new Exception?[rest.Count];
        object? ReadWhole(KeyValuePair<string, ManifestEntry> entry)
        {
            var (file, expected) = entry;
            // A tensor file is parsed even when only verified, so bytes past its last tensor are found by both.
            return wantedTensors.Contains(file) ? ReadFile<object?>(checkpointPath, name, manifest, file, reader => loadContents ? TensorFile.ReadWhole(reader, expected.Bytes) : Checked(reader, expected.Bytes))
                : loadContents && wantedBlobs.Contains(file) ? ReadFile(checkpointPath, name, manifest, file, reader => reader.ReadToArray(expected.Bytes))
                : ReadFile<object?>(checkpointPath, name, manifest, file, _ => null);
        }
        var split = loadContents ? SplitBlobRead.OfLargest(name, checkpointPath, manifest, rest, wantedBlobs) : null;
        try
        {
            // Files side by side: reading into fresh arrays is bound by page faults and hashing, both per core.
            // A split blob's head goes first and its tail last, to whichever thread is free by then.
            var pieces = new List<(int File, Action Read)>(rest.Count + 1);
            if (split is { } first)
            {
                pieces.Add((first.Index, first.Read.ReadHead));
            }
            pieces.AddRange(Enumerable.Range(0, rest.Count).Where(i => i != split?.Index).Select(i => (i, (Action)(() => read[i] = ReadWhole(rest[i])))));
            if (split is { } last)
            {
                pieces.Add((last.Index, last.Read.ReadTail));
            }
            Parallel.For(0, pieces.Count, new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount }, p =>
            {
                var (i, readPiece) = pieces[p];
                try
                {
                    readPiece();
                }
                catch (Exception e)
                {
                    Interlocked.CompareExchange(ref failures[i], e, null);
                }
            });
            if (split is { } whole && failures[whole.Index] is null)
            {
                var file = rest[whole.Index].Key;
                var (hash, bytes) = whole.Read.Finish();
                read[whole.Index] = bytes;
                failures[whole.Index] = hash == manifest.ExpectedHash(file) ? null : HashMismatch(name, file, whole.Read.ChecksumName);
            }
        }
        finally
        {
            split?.Read.Dispose();
        }
        // The first failure in name order is the one reported, whatever order the reads finished in.
        if (failures.FirstOrDefault(f => f is not null) is { } failure)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(failure);
        }
        for (var i = 0; i < rest.Count; i++)
        {
            switch (read[i])
            {
                case List<KeyValuePair<string, HostTensor>> tensors:
                    tensorFiles[rest[i].Key] = tensors;
                    break;
                case byte[] blob:
                    blobFiles[rest[i].Key] = blob;
                    break;
            }
        }
        var components = new Dictionary<string, ComponentState>(StringComparer.Ordinal);
        if (loadContents)
        {
            foreach (var (component, entry) in entries)
            {
                var tensors = entry.InlineTensors is { } inline ? ReadInlineTensors(inline, component, name)
                    : entry.TensorFile is null ? [] : Require(tensorFiles, entry.TensorFile, name);
                var blob = entry.BlobFile is null ? null : Require(blobFiles, entry.BlobFile, name);
                components[component] = new ComponentState(tensors, blob, entry.Metadata);
            }
        }
        return new LoadedCheckpoint(Path.GetFullPath(checkpointPath), folderName, info, components);
    }

    /// <summary>Formats 1 and 2 keep the info and the components in a file of their own, hashed like the others.</summary>
    private static (CheckpointInfo Info, IReadOnlyDictionary<string, ComponentEntry> Components) ReadMetadataFile(string checkpointPath, string name, CheckpointManifest manifest)
    {
        var metadataBytes = ReadFile(checkpointPath, name, manifest, CheckpointFormat.MetadataFile, reader => reader.ReadToArray(manifest.Files[CheckpointFormat.MetadataFile].Bytes));
        try
        {
            var metadata = JsonSerializer.Deserialize<CheckpointMetadata>(metadataBytes, CheckpointJson.Options)
                ?? throw new CorruptCheckpointException($"{name}: {CheckpointFormat.MetadataFile} is empty");
            return (metadata.Info, metadata.Components);
        }
        catch (JsonException)
        {
            throw new CorruptCheckpointException($"{name}: {CheckpointFormat.MetadataFile} is unreadable (corrupt)");
        }
    }

    // The manifest's seal already vouched for these bytes; a failure here is a bug's, or a forged manifest's.
    private static List<KeyValuePair<string, HostTensor>> ReadInlineTensors(byte[] inline, string component, string name)
    {
        try
        {
            return TensorFile.ReadWhole(new MemoryStream(inline), inline.Length);
        }
        catch (Exception e) when (e is InvalidDataException or EndOfStreamException or OverflowException)
        {
            throw new CorruptCheckpointException($"{name}: {CheckpointFormat.ManifestFile} matches its hash but {PrintableText.Escape(component)}'s tensors in it cannot be read ({e.Message})");
        }
    }

    private static CheckpointManifest ReadManifest(string checkpointPath, string name)
    {
        if (!System.IO.Directory.Exists(checkpointPath))
        {
            throw new CorruptCheckpointException($"{name}: no such checkpoint folder ({checkpointPath})");
        }
        var bytes = CheckpointFileGuard.ReadManifest(name, checkpointPath);
        CheckpointManifest manifest;
        try
        {
            manifest = CheckpointManifest.Parse(bytes);
        }
        catch (JsonException)
        {
            throw new CorruptCheckpointException($"{name}: {CheckpointFormat.ManifestFile} is unreadable (corrupt)");
        }
        if (!manifest.IsComplete)
        {
            throw new CorruptCheckpointException(
                $"{name}: {CheckpointFormat.ManifestFile} is not an {CheckpointFormat.FormatName}, {CheckpointFormat.FormatVersion2} or {CheckpointFormat.FormatVersion1} manifest");
        }
        if (manifest.HoldsMetadata && !ManifestSeal.Holds(bytes, manifest.ManifestXxh128!))
        {
            throw new CorruptCheckpointException($"{name}: {CheckpointFormat.ManifestFile} is corrupt (XXH128 does not match the hash it records)");
        }
        return manifest;
    }

    private static CorruptCheckpointException HashMismatch(string name, string file, string checksumName) =>
        new($"{name}: {PrintableText.Escape(file)} is corrupt ({checksumName} does not match the manifest)");

    private static object? Checked(Stream reader, long length)
    {
        TensorFile.Check(reader, length);
        return null;
    }

    /// <summary>One pass over one file: <paramref name="read"/> consumes what it needs, the rest is hashed, then checked.</summary>
    private static T ReadFile<T>(string checkpointPath, string name, CheckpointManifest manifest, string file, Func<ChecksummedFileReader, T> read)
    {
        var declared = manifest.Files[file].Bytes;
        using var reader = new ChecksummedFileReader(CheckpointFileGuard.OpenEntry(name, checkpointPath, file, declared), declared, manifest.NewChecksum());
        T value = default!;
        string? unreadable = null;
        try
        {
            value = read(reader);
        }
        catch (Exception e) when (e is InvalidDataException or EndOfStreamException or OverflowException)
        {
            unreadable = e.Message; // a hash mismatch, checked next, explains it better
        }
        var checksum = reader.Finish();
        if (checksum != manifest.ExpectedHash(file))
        {
            throw HashMismatch(name, file, reader.ChecksumName);
        }
        if (unreadable is not null)
        {
            throw new CorruptCheckpointException($"{name}: {PrintableText.Escape(file)} matches the manifest but cannot be read ({unreadable})");
        }
        return value;
    }

    private static T Require<T>(Dictionary<string, T> contents, string file, string name) =>
        contents.TryGetValue(file, out var value) ? value : throw new CorruptCheckpointException($"{name}: {PrintableText.Escape(file)} is not in the manifest");
}

/// <summary>A commit's outcome; <paramref name="WeightsSha256"/> is what its manifest records. <paramref name="Bytes"/> counts every file written, the manifest included.</summary>
public sealed record CommitResult(string Name, string Path, long Bytes, bool AlreadyPresent, string WeightsSha256);
