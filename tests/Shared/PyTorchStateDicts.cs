using System.Text.Json;

namespace Orchestrator.Testing;

/// <summary>
/// State_dicts made by a real PyTorch for the tests: for the built-in jobs' architectures, saved with
/// <c>torch.save</c> and as safetensors (written here from the format's published layout, since Debian has no
/// safetensors package), with the SHA-256 of every tensor's bytes as PyTorch holds them.
/// </summary>
public static class PyTorchStateDicts
{
    /// <summary>One tensor as PyTorch has it: dtype (torch.float32...), shape, SHA-256 of its contiguous bytes.</summary>
    public sealed record Expected(string DType, long[] Shape, string Sha256);

    /// <summary>model.pt, model.safetensors and expected.json for job <paramref name="job"/> (mlp or cnn) in <paramref name="folder"/>.</summary>
    public static IReadOnlyDictionary<string, Expected> ForJob(string folder, string job, int width, string prefix = "")
    {
        PyTorchPython.Run(Script, "job", folder, job, width.ToString(), prefix);
        return ReadExpected(folder);
    }

    /// <summary>dtypes.pt and dtypes.safetensors: every element type, and (in the .pt) views that are not contiguous.</summary>
    public static IReadOnlyDictionary<string, Expected> WithEveryDType(string folder)
    {
        PyTorchPython.Run(Script, "dtypes", folder);
        return ReadExpected(folder);
    }

    /// <summary>evil.pt (runs os.system when unpickled by Python), missing_storage.pt, overshape.pt, legacy.pt, nested.pt.</summary>
    public static void Hostile(string folder) => PyTorchPython.Run(Script, "hostile", folder);

    /// <summary>The weights-sha256 that orchestrator prints for a model holding exactly the state_dict last made in <paramref name="folder"/>.</summary>
    public static string WeightsSha256(string folder) => File.ReadAllText(Path.Combine(folder, "weights-sha256")).Trim();

    private static Dictionary<string, Expected> ReadExpected(string folder) =>
        JsonSerializer.Deserialize<Dictionary<string, Expected>>(File.ReadAllText(Path.Combine(folder, "expected.json")), new JsonSerializerOptions { PropertyNameCaseInsensitive = true })!;

    private const string Script = """
        import collections, hashlib, json, os, pickle, struct, sys, zipfile
        import torch
        from torch import nn

        SAFETENSORS_DTYPES = {torch.float64: "F64", torch.float32: "F32", torch.float16: "F16", torch.bfloat16: "BF16",
                              torch.int64: "I64", torch.int32: "I32", torch.int16: "I16", torch.int8: "I8",
                              torch.uint8: "U8", torch.bool: "BOOL"}
        SAME_SIZE_INT = {1: torch.uint8, 2: torch.int16, 4: torch.int32, 8: torch.int64}

        def raw(t):
            t = t.detach().contiguous().reshape(-1)
            if t.dtype == torch.bool:
                t = t.to(torch.uint8)
            elif t.dtype != torch.uint8:
                t = t.view(SAME_SIZE_INT[t.element_size()])
            return t.numpy().tobytes()

        def write_safetensors(state, path, metadata):
            header, chunks, offset = {}, [], 0
            for name, t in state.items():
                data = raw(t)
                header[name] = {"dtype": SAFETENSORS_DTYPES[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
                chunks.append(data)
                offset += len(data)
            header["__metadata__"] = metadata
            text = json.dumps(header, separators=(",", ":")).encode()
            text += b" " * (-len(text) % 8)
            with open(path, "wb") as f:
                f.write(struct.pack("<Q", len(text)))
                f.write(text)
                for data in chunks:
                    f.write(data)

        def write_expected(state, folder):
            expected = {name: {"dtype": str(t.dtype), "shape": list(t.shape), "sha256": hashlib.sha256(raw(t)).hexdigest()} for name, t in state.items()}
            with open(os.path.join(folder, "expected.json"), "w") as f:
                json.dump(expected, f)
            # weights-sha256 as orchestrator prints it: SHA-256 over the tensors' bytes in key order.
            digest = hashlib.sha256(b"".join(raw(state[name]) for name in sorted(state)))
            with open(os.path.join(folder, "weights-sha256"), "w") as f:
                f.write(digest.hexdigest())

        class Mlp(nn.Module):  # src/Trainer/Jobs/MlpJob.cs
            def __init__(self, width):
                super().__init__()
                self.hidden1 = nn.Linear(16, width)
                self.hidden2 = nn.Linear(width, width)
                self.output = nn.Linear(width, 1)

        class Cnn(nn.Module):  # src/Trainer/Jobs/CnnJob.cs
            def __init__(self, width):
                super().__init__()
                self.conv1 = nn.Conv2d(1, width, 3, padding=1)
                self.norm1 = nn.BatchNorm2d(width)
                self.conv2 = nn.Conv2d(width, width * 2, 3, padding=1)
                self.norm2 = nn.BatchNorm2d(width * 2)
                self.head = nn.Linear(width * 2, 4)

        def job(folder, name, width, prefix):
            torch.manual_seed(7)
            model = {"mlp": Mlp, "cnn": Cnn}[name](int(width))
            with torch.no_grad():
                for key, t in model.state_dict().items():
                    if key.endswith("num_batches_tracked"):
                        t.fill_(11)
                    elif key.endswith("running_var"):
                        t.uniform_(0.5, 2.0)
                    else:
                        t.normal_()
            state = collections.OrderedDict((prefix + k, v) for k, v in model.state_dict().items())
            torch.save(state, os.path.join(folder, "model.pt"))
            write_safetensors(state, os.path.join(folder, "model.safetensors"), {"format": "pt"})
            write_expected(state, folder)

        def dtypes(folder):
            torch.manual_seed(8)
            base = torch.randn(6, 5, dtype=torch.float64)
            contiguous = collections.OrderedDict([
                ("f64", base.clone()), ("f32", base.float()), ("f16", base.half()), ("bf16", base.bfloat16()),
                ("i64", torch.arange(-7, 5, dtype=torch.int64).reshape(3, 4)), ("i32", torch.tensor([-2**31, 2**31 - 1], dtype=torch.int32)),
                ("i16", torch.tensor([-300, 300], dtype=torch.int16)), ("i8", torch.tensor([-128, 127], dtype=torch.int8)),
                ("u8", torch.tensor([0, 255], dtype=torch.uint8)), ("bool", torch.tensor([True, False, True])),
                ("scalar", torch.tensor(3.5)), ("empty", torch.zeros(0, 3)),
                ("bf16_specials", torch.tensor([float("inf"), float("-inf"), float("nan"), -0.0, 1e-40], dtype=torch.bfloat16)),
            ])
            state = collections.OrderedDict(contiguous)
            state["transposed"] = base.float().t()              # a view: strides (1, 5)
            state["sliced"] = base.float()[2:5, 1:4]            # a view with a storage offset
            state["stepped"] = base.half()[::2, ::3]            # strides with steps
            torch.save(state, os.path.join(folder, "dtypes.pt"))
            write_safetensors(contiguous, os.path.join(folder, "dtypes.safetensors"), {"made_by": "the test"})
            write_expected(state, folder)

        class RunsCode:
            def __init__(self, marker):
                self.marker = marker
            def __reduce__(self):
                return (os.system, ("touch " + self.marker,))

        class FakeStorage:
            pass

        class FakeTensor:
            def __init__(self, storage, size):
                self.storage, self.size = storage, size
            def __reduce__(self):
                return (torch._utils._rebuild_tensor_v2, (self.storage, 0, self.size, (1,), False, collections.OrderedDict()))

        class StoragePickler(pickle.Pickler):
            def persistent_id(self, obj):
                return ("storage", torch.FloatStorage, "0", "cpu", 4) if isinstance(obj, FakeStorage) else None

        def write_archive(path, pickled, storages):
            with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as z:
                z.writestr("archive/data.pkl", pickled)
                for key, data in storages.items():
                    z.writestr("archive/data/" + key, data)

        def hostile(folder):
            marker = os.path.join(folder, "code-ran")
            torch.save({"weight": torch.ones(2), "payload": RunsCode(marker)}, os.path.join(folder, "evil.pt"))
            torch.save({"weight": torch.ones(2), "bias": torch.zeros(3)}, os.path.join(folder, "whole.pt"))
            with zipfile.ZipFile(os.path.join(folder, "whole.pt")) as source, zipfile.ZipFile(os.path.join(folder, "missing_storage.pt"), "w", zipfile.ZIP_STORED) as target:
                for item in source.infolist():
                    if not item.filename.endswith("/data/1"):
                        target.writestr(item.filename, source.read(item.filename))
            for name, size in [("overshape.pt", (100,)), ("fits.pt", (4,))]:
                import io
                buffer = io.BytesIO()
                StoragePickler(buffer, protocol=2).dump(collections.OrderedDict([("weight", FakeTensor(FakeStorage(), size))]))
                write_archive(os.path.join(folder, name), buffer.getvalue(), {"0": struct.pack("<4f", 1, 2, 3, 4)})
            torch.save({"weight": torch.ones(2)}, os.path.join(folder, "legacy.pt"), _use_new_zipfile_serialization=False)
            torch.save({"epoch": 3, "model": collections.OrderedDict([("weight", torch.ones(2))]), "optimizer": {"lr": 0.1}}, os.path.join(folder, "nested.pt"))

        mode, folder = sys.argv[1], sys.argv[2]
        os.makedirs(folder, exist_ok=True)
        {"job": lambda: job(folder, sys.argv[3], sys.argv[4], sys.argv[5] if len(sys.argv) > 5 else ""),
         "dtypes": lambda: dtypes(folder), "hostile": lambda: hostile(folder)}[mode]()
        """;
}
