# The orchestrator image: every cluster node (and a client) runs it. CPU TorchSharp by default; build with
# --build-arg TORCH_BACKEND=cuda on a machine that can restore TorchSharp-cuda-linux for GPU nodes.
FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
ARG TORCH_BACKEND=cpu
WORKDIR /src
COPY . .
RUN dotnet publish src/Orchestrator -c Release -p:TorchBackend=${TORCH_BACKEND} -o /app

FROM mcr.microsoft.com/dotnet/runtime:10.0
WORKDIR /app
COPY --from=build /app .
# Work dirs and checkpoints live on this volume, mounted at the same path on every node.
VOLUME /shared
# 4053: cluster traffic; 8558: management (health probes, Cluster Bootstrap).
EXPOSE 4053 8558
ENTRYPOINT ["dotnet", "/app/orchestrator.dll"]
