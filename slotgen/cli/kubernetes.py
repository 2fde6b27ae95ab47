"""`slotgen kubernetes`: a CronJob manifest per job, ready for `kubectl apply -f -`."""

from typing import Annotated

import typer

from slotgen.cli.output import line


def kubernetes_command(
    image: Annotated[
        str | None,
        typer.Option(
            metavar="IMAGE",
            help="The container image with slotgen installed: NAME, NAME:TAG or NAME@DIGEST, "
            "optionally after REGISTRY/. Default: slotgen:VERSION.",
            show_default=False,
        ),
    ] = None,
    secret: Annotated[
        str,
        typer.Option(
            metavar="NAME",
            help="The Secret whose key database-url holds the database URL.",
        ),
    ] = "slotgen",
    namespace: Annotated[
        str | None,
        typer.Option(
            metavar="NS",
            help="The namespace of the CronJobs. Default: kubectl's current namespace.",
        ),
    ] = None,
) -> None:
    """Print batch/v1 CronJob manifests that run slotgen's jobs on the UTC schedule.

    Apply them with `slotgen kubernetes --image IMAGE | kubectl apply -f -`. Each pod runs
    once (backoffLimit: 0; generate retries itself with --tries); slotgen's lock in the
    database keeps a CronJob and a cron host, or two clusters, from running one job twice.
    """
    from slotgen.services.kubernetes import DEFAULT_IMAGE, KubernetesRequest, cron_jobs, to_yaml

    request = KubernetesRequest(DEFAULT_IMAGE if image is None else image, secret, namespace)
    line("# slotgen's CronJobs. Apply with: slotgen kubernetes ... | kubectl apply -f -")
    line(f"# The database URL comes from the Secret {request.secret}, key database-url:")
    line(
        f"#   kubectl create secret generic {request.secret} "
        "--from-literal=database-url='postgresql+psycopg://slotgen:PASSWORD@db/clinic'"
        + (f" -n {request.namespace}" if request.namespace else "")
    )
    line(to_yaml(cron_jobs(request)).rstrip("\n"))
