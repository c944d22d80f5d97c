"""Recipe scripts pick the right config per profile and pass overrides through (hf-emo replaced by a stub)."""

import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def echo_bin(tmp_path):
    b = tmp_path / "hf-emo"
    b.write_text('#!/usr/bin/env bash\necho "$@"\n')
    b.chmod(0o755)
    return b


@pytest.mark.parametrize(
    "script,profile,config",
    [
        ("recipes/romanian_mtkd/00_baseline.sh", None, "recipes/romanian_mtkd/configs/baseline.yaml"),
        ("recipes/romanian_mtkd/00_baseline.sh", "embedded", "recipes/romanian_mtkd/configs/baseline_embedded.yaml"),
        ("recipes/distilbert_emotion/train.sh", "embedded", "recipes/distilbert_emotion/configs/embedded.yaml"),
        ("recipes/distilbert_emotion/train.sh", "paper", "recipes/distilbert_emotion/configs/paper.yaml"),
    ],
)
def test_profile_selects_config(script, profile, config, echo_bin):
    args = ["bash", str(ROOT / script)] + (["--profile", profile] if profile else []) + ["--seed", "7"]
    out = subprocess.run(
        args, capture_output=True, text=True, env={"HF_EMO_BIN": str(echo_bin), "PATH": "/usr/bin:/bin"}, check=True
    ).stdout.split()
    assert out[:2] == ["train", "--config"]
    assert Path(out[2]).resolve() == (ROOT / config).resolve()
    assert out[3:] == ["--seed", "7"]
    cfg = yaml.safe_load((ROOT / config).read_text())
    assert cfg["task"] in {"redv2", "dair_emotion"} and cfg["output_dir"].startswith("runs/")


@pytest.mark.parametrize("script", sorted(str(p.relative_to(ROOT)) for p in ROOT.glob("recipes/*/*.sh")))
def test_unknown_profile_fails_before_any_command(script, tmp_path):
    """Every script refuses a profile it has no configs for, before it runs anything (02_loyalty_speed.sh once ran
    its evaluation with runs/distil_gpu_*, and kd.sh trained a teacher with the paper's settings first)."""
    log = tmp_path / "commands.txt"
    stub = tmp_path / "hf-emo"
    stub.write_text(f'#!/usr/bin/env bash\necho "$*" >> {log}\n')
    stub.chmod(0o755)
    r = subprocess.run(
        ["bash", str(ROOT / script), "--profile", "gpu"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={"HF_EMO_BIN": str(stub), "PATH": f"{tmp_path}:/usr/bin:/bin", "HOME": str(tmp_path)},
    )
    assert r.returncode == 2 and "unknown profile 'gpu' (one of: embedded paper)" in r.stderr
    assert not log.exists(), log.read_text()


# distillation configs are overlays: loaded after a base config, parsed by `hf-emo distil`
OVERLAYS = {
    "kd": ["baseline"],
    "kd_embedded": ["baseline_embedded"],
    "kd_ta": ["baseline_embedded", "kd_embedded"],
    "kd_paper": ["paper"],
}
PLAIN_OVERLAYS = {"stl_aux": ["baseline"], "stl_aux_embedded": ["baseline_embedded"]}
# distilbert_emotion's deploy.sh stacks (its names would collide with other recipes' configs)
DEPLOY_OVERLAYS = {
    "student": ["paper"],
    "teacher_mpnet": ["paper"],
    "teacher_mpnet_embedded": ["embedded"],
    "kd_student": ["paper", "student"],
    "kd_student_embedded": ["embedded"],
}


def test_every_recipe_config_parses():
    from hf_emo.jobs.arguments import parse_method_args

    for cfg in ROOT.glob("recipes/*/configs/*.yaml"):
        if cfg.parent.parent.name == "mtl_disparate_labels" or cfg.stem.startswith(
            ("mtl", "mtkd", "refine", "xling", "generative", "lora", "distil", "annotator")
        ):
            continue  # multi-task / consistency / generative / annotator-KD configs: their own parse tests
        base = [str(cfg.parent / f"{b}.yaml") for b in OVERLAYS.get(cfg.stem, PLAIN_OVERLAYS.get(cfg.stem, []))]
        if cfg.stem == "kd_embedded" and "distilbert" in str(cfg):
            base = [str(cfg.parent / "embedded.yaml")]
        distils = cfg.stem in OVERLAYS
        if cfg.parent.parent.name == "distilbert_emotion" and cfg.stem in DEPLOY_OVERLAYS:
            base = [str(cfg.parent / f"{b}.yaml") for b in DEPLOY_OVERLAYS[cfg.stem]]
            distils = cfg.stem.startswith("kd_")
        argv = [a for f in [*base, str(cfg)] for a in ("--config", f)]
        run, config = parse_method_args("distil" if distils else "train", argv)
        assert run.model_name_or_path and config.output_dir
        if distils:
            assert run.teacher and run.teacher[0].startswith("runs/")


def _echo_env(echo_bin, tmp_path):
    # a fake checkout root is not needed: teachers are looked up under the real root, so point them at a stub
    return {"HF_EMO_BIN": str(echo_bin), "PATH": "/usr/bin:/bin"}


@pytest.mark.parametrize(
    "script,args,teacher_dir,configs",
    [
        (
            "recipes/romanian_mtkd/01_kd.sh",
            ["--profile", "embedded"],
            "runs/redv2_baseline_embedded",
            ["baseline_embedded", "kd_embedded"],
        ),
        (
            "recipes/romanian_mtkd/01_kd.sh",
            ["--profile", "embedded", "--ta"],
            "runs/redv2_baseline_embedded",
            ["baseline_embedded", "kd_embedded", "kd_ta"],
        ),
        (
            "recipes/distilbert_emotion/kd.sh",
            ["--profile", "embedded"],
            "runs/dair_emotion_embedded",
            ["embedded", "kd_embedded"],
        ),
    ],
)
def test_kd_recipes_stack_configs_and_train_a_missing_teacher_first(
    script, args, teacher_dir, configs, echo_bin, tmp_path
):
    env = _echo_env(echo_bin, tmp_path)
    have_teacher = (ROOT / teacher_dir / "config.json").is_file()
    out = subprocess.run(
        ["bash", str(ROOT / script), *args, "--seed", "3"], capture_output=True, text=True, env=env, check=True
    )
    lines = out.stdout.strip().splitlines()
    distil = lines[-1].split()
    assert distil[0] == "distil"
    cfgs = [Path(distil[i + 1]).stem for i, a in enumerate(distil) if a == "--config"]
    assert cfgs == configs
    assert distil[-2:] == ["--seed", "3"] and "--ta" not in distil
    if not have_teacher:  # the stub "trained" the teacher first: one train call before the distil call
        assert lines[0].split()[0] == "train" and "teacher" in out.stderr


def test_mtl_recipe_configs_parse():
    from hf_emo.jobs.arguments import parse_config_args
    from hf_emo.jobs.multitask import MultiTaskRunArguments
    from hf_emo.trainers import MultiTaskConfig

    for cfg in ROOT.glob("recipes/mtl_disparate_labels/configs/*.yaml"):
        run, config = parse_config_args(["--config", str(cfg)], (MultiTaskRunArguments, MultiTaskConfig))
        assert run.tasks == ["semeval2018_ec", "dair_emotion", "emobank"] and run.freeze_encoder
        assert run.shared_layer_size == 256 and run.max_train_samples == {"dair_emotion": 965}
        assert (config.per_device_train_batch_size, config.learning_rate, config.weight_decay) == (64, 3e-4, 1e-3)
        assert run.early_stopping_patience and config.save_strategy == "no"


@pytest.mark.parametrize(
    "schedule,sampler",
    [
        (None, "--task_sampler mixed --train_fraction"),
        ("round_robin", "--task_sampler round_robin --gradient_accumulation_steps 3"),
    ],
)
def test_mtl_disparate_labels_runs_every_setting_per_seed(echo_bin, tmp_path, schedule, sampler):
    env = {
        **_echo_env(echo_bin, tmp_path),
        "SEEDS": "0 1",
        "OUT": str(tmp_path / "runs"),
        **({"SCHEDULE": schedule} if schedule else {}),
    }
    out = subprocess.run(
        ["bash", str(ROOT / "recipes/mtl_disparate_labels/run.sh"), "--profile", "embedded", "--num_train_epochs", "2"],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    calls = [line for line in out.stdout.splitlines() if line.startswith("mtl ")]
    assert len(calls) == 14 * 2
    by_dir = {c.split("--output_dir ")[1]: c for c in calls}
    gn = by_dir[str(tmp_path / "runs" / "segn_S010_s1")]
    for part in (
        "--head_layout shared_embedding",
        "--loss_weighting gradnorm",
        '{"semeval2018_ec": 0.1}',
        sampler,
        "--seed 1",
        "configs/embedded.yaml",
        "--num_train_epochs 2",
    ):
        assert part in gn
    stl_t = by_dir[str(tmp_path / "runs" / "stl_T_s0")]
    assert "--tasks dair_emotion --primary_task dair_emotion --num_train_epochs" in stl_t
    tables = [line for line in out.stdout.splitlines() if line.startswith("table seeds")]
    assert len(tables) == 2 and all("--spread ci95" in t and "dair_emotion_f1_micro" in t for t in tables)


def test_mtl_disparate_labels_diagnostics_only_when_named(echo_bin, tmp_path):
    env = {
        **_echo_env(echo_bin, tmp_path),
        "SEEDS": "3",
        "OUT": str(tmp_path / "runs"),
        "ONLY": "stlsel_S100 mhsel_S100 mhprop_S100",
        "SCHEDULE": "round_robin",
    }
    out = subprocess.run(
        ["bash", str(ROOT / "recipes/mtl_disparate_labels/run.sh"), "--profile", "embedded"],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    calls = [line for line in out.stdout.splitlines() if line.startswith("mtl ")]
    by_dir = {c.split("--output_dir ")[1].split()[0]: c for c in calls}
    assert sorted(by_dir) == sorted(
        str(tmp_path / "runs" / f"{n}_s3") for n in ("stlsel_S100", "mhsel_S100", "mhprop_S100")
    )
    sel = "--metric_for_best_model semeval2018_ec_jaccard_samples"
    assert sel in by_dir[str(tmp_path / "runs" / "stlsel_S100_s3")]
    mhsel = by_dir[str(tmp_path / "runs" / "mhsel_S100_s3")]
    assert sel in mhsel and "--task_sampler round_robin --gradient_accumulation_steps 3" in mhsel
    prop = by_dir[str(tmp_path / "runs" / "mhprop_S100_s3")]
    assert "--tasks semeval2018_ec dair_emotion emobank --task_sampler proportional" in prop
    assert "gradient_accumulation_steps" not in prop and "metric_for_best_model" not in prop


@pytest.mark.parametrize(
    "stack,teachers",
    [
        (["mtl_embedded"], set()),
        (["mtl"], set()),
        (["mtl_embedded", "mtkd_embedded"], {"redv2", "laroseda", "ag_news"}),
        (["mtl_embedded", "mtkd_embedded", "kd_ta"], {"redv2", "laroseda", "ag_news"}),
        (["mtl", "mtkd"], {"redv2", "laroseda", "ag_news"}),
    ],
)
def test_paper000_mtl_configs_parse(stack, teachers):
    from hf_emo.jobs.arguments import parse_config_args
    from hf_emo.jobs.multitask import MultiTaskRunArguments
    from hf_emo.trainers import MultiTaskConfig

    argv = [a for c in stack for a in ("--config", str(ROOT / f"recipes/romanian_mtkd/configs/{c}.yaml"))]
    run, config = parse_config_args(argv, (MultiTaskRunArguments, MultiTaskConfig))
    assert run.tasks == ["redv2", "laroseda", "ag_news"] and run.primary_task == "redv2"
    assert config.task_weights == {"laroseda": 0.1, "ag_news": 0.1}
    assert set(run.teacher) == teachers
    if "kd_ta" in stack:
        assert (config.alpha_schedule, config.alpha_start, config.alpha_end, config.temperature) == (
            "linear",
            0.1,
            0.7,
            1.5,
        )
        # 12_kd_loss_form.sh's MTKD-TA arm: REDv2's form from the command line, the auxiliary tasks keep the profile's
        _, arm = parse_config_args(
            argv + ["--task_kd_losses", '{"redv2": "kl_softmax"}'], (MultiTaskRunArguments, MultiTaskConfig)
        )
        assert arm.kd_loss_name("redv2", "multi_label") == "kl_softmax"
        assert arm.kd_loss_name("laroseda", "single_label") == "kl_softmax"
        # every MTKD profile distils REDv2 in paper 000's softmax form (the embedded one since 2026-12-04)
        assert config.kd_loss_name("redv2", "multi_label") == "kl_softmax"
        # 07's mtkd_ta_ann: the auxiliary teachers on the command line replace the config's mapping, so REDv2's
        # teacher column does not meet the config's REDv2 teacher
        ann, _ = parse_config_args(
            argv + ["--teacher", '{"laroseda": "a", "ag_news": "b"}', "--teacher_columns", '{"redv2": "soft_labels"}'],
            (MultiTaskRunArguments, MultiTaskConfig),
        )
        assert ann.teacher == {"laroseda": "a", "ag_news": "b"} and ann.teacher_columns == {"redv2": "soft_labels"}


def test_paper000_mtl_study_runs_the_ladder_and_ablations(echo_bin, tmp_path):
    env = {**_echo_env(echo_bin, tmp_path), "SEEDS": "42 1", "OUT": str(tmp_path / "st")}
    res = subprocess.run(
        ["bash", str(ROOT / "recipes/romanian_mtkd/07_mtl_study.sh"), "--profile", "embedded", "--max_steps", "5"],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    out = res.stdout
    # OUT moved the runs: the study says so (a GPU tool's OUT once took a study's runs where nothing collected them)
    assert f"mtl_study: runs in {tmp_path / 'st'} (from OUT; unset OUT for runs/mtl_study_embedded)" in res.stderr
    calls = [c for c in out.splitlines() if c.split(" ")[0] in ("train", "mtl")]
    assert len(calls) == 2 * 3 + 2 * 9  # per seed: 3 single-task runs; 3 MTL, MTKD, MTKD-TA (x3), 2 ablations
    by_dir = {c.split("--output_dir ")[1].split()[0]: c for c in calls}
    st = tmp_path / "st"
    ens = by_dir[f"{st}/mtkd_ta_ens_s1"]
    assert (
        "kd_ta.yaml" in ens
        and (
            f'{{"redv2": ["{st}/stl_redv2_s42", "{st}/stl_redv2_s1"], '
            f'"laroseda": "{st}/stl_laroseda_s42", "ag_news": "{st}/stl_ag_news_s42"}}'
        )
        in ens
    )
    ann = by_dir[f"{st}/mtkd_ta_ann_s1"]  # REDv2 distils its annotators' shares, in the softmax form by name
    assert (
        "kd_ta.yaml" in ann
        and f'--teacher {{"laroseda": "{st}/stl_laroseda_s42", "ag_news": "{st}/stl_ag_news_s42"}}' in ann
    )
    assert """--teacher_columns {"redv2": "soft_labels"} --task_kd_losses {"redv2": "kl_softmax"}""" in ann
    assert '"laroseda": 0.2, "ag_news": 0.2' in by_dir[f"{st}/mtl_d5_s42"]
    ta = by_dir[f"{st}/mtkd_ta_no_news_s1"]
    assert "kd_ta.yaml" in ta and "--tasks redv2 laroseda" in ta and f"{st}/stl_redv2_s42" in ta
    assert "ag_news" not in ta.split("--teacher")[1].split("--seed")[0]
    assert "runs/laroseda_embedded" not in out  # the study's own teachers: no default teacher is trained


def test_paper000_grid_reuses_the_mtkd_runs_for_its_two_default_cells(echo_bin, tmp_path):
    """Table 4 (GRID=1) runs the paper's 14 T x alpha cells: T 1 / alpha 0.5 and T 1.5 / alpha 0.1->0.7 are the
    seed's MTKD and MTKD-TA runs, which 08 reads into the grid, and alpha 1 (no KD term) runs at T 1 only."""
    st = tmp_path / "st"
    env = {**_echo_env(echo_bin, tmp_path), "SEEDS": "42", "OUT": str(st), "GRID": "1", "TABLES": "0"}

    def grid_runs(grid: str) -> list[str]:
        out = subprocess.run(
            ["bash", str(ROOT / "recipes/romanian_mtkd/07_mtl_study.sh"), "--profile", "embedded"],
            capture_output=True,
            text=True,
            env={**env, "GRID": grid},
            check=True,
        ).stdout
        calls = [c for c in out.splitlines() if "/grid_" in c]
        assert all(("kd_ta.yaml" in c) == ("_ta_s42" in c) for c in calls)
        return sorted(c.split("--output_dir ")[1].split()[0].rsplit("/", 1)[1].removesuffix("_s42") for c in calls)

    assert grid_runs("1") == sorted(
        [
            "grid_T0.5_a0.5",
            "grid_T1.5_a0.5",
            "grid_T2_a0.5",
            "grid_T3_a0.5",
            "grid_T4_a0.5",
            "grid_T1_a0.75",
            "grid_T1.5_a0.75",
            "grid_T2_a0.75",
            "grid_T1_a1",
            "grid_T1_ta",
            "grid_T2_ta",
        ]
    )
    full = grid_runs("full")
    assert len(full) == 6 * 4 - 1 - 5 - 1 and {"grid_T4_a0.75", "grid_T0.5_ta"} <= set(full)
    assert "grid_T1_a0.5" not in full and "grid_T1.5_ta" not in full and "grid_T2_a1" not in full
    bad = subprocess.run(
        ["bash", str(ROOT / "recipes/romanian_mtkd/07_mtl_study.sh"), "--profile", "embedded"],
        capture_output=True,
        text=True,
        env={**env, "GRID": "yes"},
    )
    assert bad.returncode == 2 and "GRID must be 0, 1" in bad.stderr and "mtl " not in bad.stdout
    (st / "grid_T2_a0.5_s42").mkdir(parents=True)
    tables = subprocess.run(
        ["bash", str(ROOT / "recipes/romanian_mtkd/08_mtl_tables.sh"), str(st)],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    ).stdout
    kd_grid = next(line for line in tables.splitlines() if line.startswith("table kd-grid"))
    assert f"--runs {st}/grid_* --runs {st}/mtkd_s42 --runs {st}/mtkd_ta_s42 --metric" in kd_grid


def test_paper000_table6_compares_the_models_of_one_seed(echo_bin, tmp_path):
    """Table 6 took each model's first folder in name order (seed 1 before 42), mixing seeds across columns."""
    st = tmp_path / "st"
    for run in ("stl_redv2_s1", "stl_redv2_s42", "mtl_d10_s1", "mtl_d10_s42", "mtkd_s42", "mtkd_ta_s2"):
        (st / run).mkdir(parents=True)
        (st / run / "config.json").write_text("{}")
        (st / run / "model.safetensors").write_text("")
    env = _echo_env(echo_bin, tmp_path)

    def probs_call(**extra) -> str:
        out = subprocess.run(
            ["bash", str(ROOT / "recipes/romanian_mtkd/08_mtl_tables.sh"), str(st)],
            capture_output=True,
            text=True,
            env={**env, **extra},
            check=True,
        ).stdout
        return next(line for line in out.splitlines() if line.startswith("table probs"))

    call = probs_call()
    assert f"--model baseline={st}/stl_redv2_s42 --model MTL={st}/mtl_d10_s42 --model MTKD={st}/mtkd_s42 --task" in call
    assert "seed 42 of every model" in call
    call = probs_call(TABLE6_SEED="1")
    assert f"--model baseline={st}/stl_redv2_s1 --model MTL={st}/mtl_d10_s1 --task" in call


def test_paper000_mtl_study_only_runs_the_named_steps(echo_bin, tmp_path):
    env = {
        **_echo_env(echo_bin, tmp_path),
        "SEEDS": "42 1",
        "OUT": str(tmp_path / "st"),
        "ONLY": "stl_laroseda mtl_d10 mtkd_ta",
    }
    out = subprocess.run(
        ["bash", str(ROOT / "recipes/romanian_mtkd/07_mtl_study.sh"), "--profile", "embedded"],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    ).stdout
    dirs = sorted(
        c.split("--output_dir ")[1].split()[0].rsplit("/", 1)[1]
        for c in out.splitlines()
        if c.split(" ")[0] in ("train", "mtl")
    )
    assert dirs == ["mtkd_ta_s1", "mtkd_ta_s42", "mtl_d10_s1", "mtl_d10_s42", "stl_laroseda_s1", "stl_laroseda_s42"]
    lane = subprocess.run(
        ["bash", str(ROOT / "recipes/romanian_mtkd/07_mtl_study.sh"), "--profile", "embedded"],
        capture_output=True,
        text=True,
        check=True,
        env={**env, "ONLY": "mtkd_ta_s1 mtl_d10", "TABLES": "0"},
    ).stdout
    calls = [c for c in lane.splitlines() if c.split(" ")[0] in ("train", "mtl")]
    assert sorted(c.split("--output_dir ")[1].split()[0].rsplit("/", 1)[1] for c in calls) == [
        "mtkd_ta_s1",
        "mtl_d10_s1",
        "mtl_d10_s42",
    ]  # one seed of a run by its full name; every seed by its name
    assert f'"redv2": "{tmp_path}/st/stl_redv2_s42"' in next(c for c in calls if "mtkd_ta_s1" in c)  # t0 kept
    assert "table" not in {c.split(" ")[0] for c in lane.splitlines()}  # TABLES=0: no tables written


@pytest.mark.parametrize("name", ["refine_embedded", "refine"])
def test_consistency_configs_parse(name):
    from hf_emo.jobs.arguments import parse_config_args
    from hf_emo.jobs.consistency import ConsistencyRunArguments
    from hf_emo.trainers import ConsistencyDistillationConfig

    cfg = ROOT / f"recipes/wang2024_consistency_kd/configs/{name}.yaml"
    run, config = parse_config_args(
        ["--config", str(cfg), "--teacher", "runs/t"], (ConsistencyRunArguments, ConsistencyDistillationConfig)
    )
    assert run.task == "xed_en_ro" and run.translation_column == "en_text" and run.teacher == ["runs/t"]
    assert config.alpha == 0.0 and config.quality_weighting == "quality" and config.weight_normalization == "global"
    assert (config.adam_beta2, config.weight_decay) == (0.99, 0.0)  # Wang et al. 2024's Adam in both profiles


def test_wang2024_recipe_trains_teacher_student_and_three_refinements_per_seed(echo_bin, tmp_path):
    env = {**_echo_env(echo_bin, tmp_path), "SEEDS": "42 1", "OUT": str(tmp_path / "w")}
    out = subprocess.run(
        ["bash", str(ROOT / "recipes/wang2024_consistency_kd/run.sh"), "--profile", "embedded", "--max_steps", "3"],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    ).stdout
    calls = [c for c in out.splitlines() if c.split(" ")[0] in ("train", "consistency")]
    assert len(calls) == 2 * 5
    by_dir = {c.split("--output_dir ")[1].split()[0]: c for c in calls}
    w = tmp_path / "w"
    assert "teacher_embedded.yaml" in by_dir[f"{w}/teacher_s1"] and "--seed 1" in by_dir[f"{w}/teacher_s1"]
    assert "student_embedded.yaml" in by_dir[f"{w}/stage1_s42"]
    q = by_dir[f"{w}/quality_s1"]
    for part in (
        "refine_embedded.yaml",
        f"--model_name_or_path {w}/stage1_s1",
        f"--teacher {w}/teacher_s1",
        "--quality_weighting quality",
        "--max_steps 3",
    ):
        assert part in q
    assert "--quality_weighting threshold" in by_dir[f"{w}/threshold_s42"]
    tables = [c for c in out.splitlines() if c.startswith("table seeds")]
    assert len(tables) == 1 and "quality_s*::test_stage1" in tables[0] and "::test_teacher" in tables[0]
    assert tables[0].index("--metric f1_macro") < tables[0].index("--metric f1_micro")  # paper 001 averages per class
    for s in ("42", "1"):  # finished quality runs: an ensemble of the two
        (w / f"quality_s{s}").mkdir(parents=True)
        (w / f"quality_s{s}" / "config.json").write_text("{}")
    ens = subprocess.run(
        ["bash", str(ROOT / "recipes/wang2024_consistency_kd/run.sh"), "--profile", "embedded"],
        capture_output=True,
        text=True,
        env={**env, "ONLY": "ensemble"},
        check=True,
    ).stdout
    assert f"evaluate --model {w}/quality_s42 --model {w}/quality_s1 --task xed_en_ro" in ens
    one = subprocess.run(
        ["bash", str(ROOT / "recipes/wang2024_consistency_kd/run.sh"), "--profile", "embedded"],
        capture_output=True,
        text=True,
        env={**env, "ONLY": "ensemble", "SEEDS": "42"},
        check=True,
    ).stdout
    assert "evaluate" not in one  # one member is no ensemble
    only = subprocess.run(
        ["bash", str(ROOT / "recipes/wang2024_consistency_kd/run.sh"), "--profile", "embedded"],
        capture_output=True,
        text=True,
        env={**env, "ONLY": "quality"},
        check=True,
    ).stdout
    assert [c.split()[0] for c in only.splitlines() if c.split(" ")[0] in ("train", "consistency")] == [
        "consistency",
        "consistency",
    ]


VARIANTS = ["multistage", "gradual", "mtl_adversarial", "mtl_discriminative", "mtl_sign_reversal"]


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("profile", ["", "_embedded"])
def test_cross_lingual_configs_parse(variant, profile):
    from hf_emo.jobs.arguments import parse_config_args
    from hf_emo.jobs.staged import StagedRunArguments
    from hf_emo.trainers import MultiTaskConfig

    d = ROOT / "recipes/romanian_mtkd/configs"
    argv = ["--config", str(d / f"xling{profile}.yaml"), "--config", str(d / f"xling_{variant}{profile}.yaml")]
    run, config = parse_config_args(argv, (StagedRunArguments, MultiTaskConfig))
    assert run.primary_task == "redv2" and run.eval_tasks == ["redv2"]
    assert list(run.stages[-1]["tasks"])[0] == "redv2" and "dair_emotion" in run.stages[0]["tasks"]
    if variant.startswith("mtl_"):
        assert "xed_language" in run.stages[-1]["tasks"] and config.adversarial_lambda == 0.1
        mode = {"mtl_adversarial": "gradient_reversal", "mtl_sign_reversal": "loss_sign_reversal"}.get(variant)
        assert run.stages[-1].get("adversarial_mode") == mode
        assert bool(run.stages[-1].get("adversarial_tasks")) == (mode is not None)
    redv2_epochs = sum(
        st.get("num_train_epochs", config.num_train_epochs) for st in run.stages if "redv2" in st["tasks"]
    )
    assert redv2_epochs == (3 if profile else 4)  # the embedded baseline's / paper 000's REDv2 budget


def test_cross_lingual_study_runs_every_variant_per_seed(echo_bin, tmp_path):
    env = {**_echo_env(echo_bin, tmp_path), "SEEDS": "42 1", "OUT": str(tmp_path / "x")}
    out = subprocess.run(
        [
            "bash",
            str(ROOT / "recipes/romanian_mtkd/10_cross_lingual_study.sh"),
            "--profile",
            "embedded",
            "--max_steps",
            "2",
        ],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    ).stdout
    calls = [c for c in out.splitlines() if c.startswith("stages ")]
    assert len(calls) == 2 * len(VARIANTS)
    adv = next(c for c in calls if f"{tmp_path}/x/mtl_adversarial_s1" in c)
    assert "xling_embedded.yaml" in adv and "xling_mtl_adversarial_embedded.yaml" in adv and "--seed 1" in adv
    table = next(c for c in out.splitlines() if c.startswith("table seeds"))
    assert "runs/mtl_study_embedded/stl_redv2_s*" in table and "redv2_f1_micro" in table
    assert table.index("--metric redv2_f1_macro") < table.index(
        "--metric redv2_f1_micro"
    )  # the paper's averaging first
    assert "--baseline baseline (REDv2 only)" in table
    bad = subprocess.run(
        ["bash", str(ROOT / "recipes/romanian_mtkd/09_cross_lingual.sh"), "--variant", "x"],
        capture_output=True,
        text=True,
        env=env,
    )
    assert bad.returncode == 2 and "--variant must be one of" in bad.stderr


def test_seed_loops_skip_finished_resume_interrupted_and_restart_empty_runs(echo_bin, tmp_path):
    """recipes/lib.sh's study_run: every seed loop skips a finished run, continues an interrupted one from its
    checkpoint, and restarts one that died before its first checkpoint (instead of refusing the folder)."""
    out = tmp_path / "k"
    (out / "baseline_s1").mkdir(parents=True)
    (out / "baseline_s1" / "metrics.json").write_text("{}")  # finished
    (out / "kd_s1" / "checkpoint-8").mkdir(parents=True)
    (out / "kd_s1" / "checkpoint-8" / "trainer_state.json").write_text("{}")  # interrupted after a save
    (out / "kd_ta_s1").mkdir()
    (out / "kd_ta_s1" / "stray.log").write_text("x")  # interrupted before any save
    env = {**_echo_env(echo_bin, tmp_path), "SEEDS": "1", "OUT": str(out)}
    res = subprocess.run(
        ["bash", str(ROOT / "recipes/romanian_mtkd/03_kd_seeds.sh"), "--profile", "embedded"],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    calls = {c.split("--output_dir ")[1].split()[0]: c for c in res.stdout.splitlines() if c.startswith("distil")}
    assert f"skip {out}/baseline_s1 (done)" in res.stdout and f"{out}/baseline_s1" not in calls
    assert "--resume_from_checkpoint true" in calls[f"{out}/kd_s1"]
    assert "--overwrite_output_dir true" in calls[f"{out}/kd_ta_s1"]
    assert "resume_from_checkpoint" not in calls[f"{out}/kd_ta_s1"]
    staged = tmp_path / "x"
    (staged / "gradual_s1" / "checkpoint-2").mkdir(parents=True)
    (staged / "gradual_s1" / "checkpoint-2" / "trainer_state.json").write_text("{}")
    res = subprocess.run(
        ["bash", str(ROOT / "recipes/romanian_mtkd/10_cross_lingual_study.sh"), "--profile", "embedded"],
        capture_output=True,
        text=True,
        check=True,
        env={**env, "OUT": str(staged), "ONLY": "gradual"},
    )
    call = next(c for c in res.stdout.splitlines() if c.startswith("stages"))
    assert "--overwrite_output_dir true" in call and "resume" not in call  # staged runs cannot resume


def test_paper_profiles_carry_the_papers_settings():
    """The paper profiles take each paper's stated settings (issue: paper fidelity)."""
    from hf_emo.jobs.arguments import parse_config_args, parse_method_args
    from hf_emo.jobs.multitask import MultiTaskRunArguments
    from hf_emo.trainers import MultiTaskConfig

    w = ROOT / "recipes/wang2024_consistency_kd/configs"
    for name in ("teacher", "student"):  # Wang et al. 2024 appendix: Adam (0.9, 0.99), lr 5e-6, batch 16
        _, c = parse_method_args("train", ["--config", str(w / f"{name}.yaml")])
        assert (c.learning_rate, c.adam_beta1, c.adam_beta2, c.per_device_train_batch_size, c.weight_decay) == (
            5e-6,
            0.9,
            0.99,
            16,
            0.0,
        )
        _, e = parse_method_args(
            "train", ["--config", str(w / f"{name}_embedded.yaml")]
        )  # embedded: the paper's optimiser too
        assert (e.adam_beta1, e.adam_beta2, e.weight_decay) == (0.9, 0.99, 0.0)
    r = ROOT / "recipes/romanian_mtkd/configs"
    _, kd = parse_method_args("distil", ["--config", str(r / "baseline.yaml"), "--config", str(r / "kd.yaml")])
    assert kd.kd_loss == "kl_softmax"  # Matei's T^2 KL of the temperature softmax over the label vector
    assert kd.metric_for_best_model == "f1_macro"  # the epoch is chosen in the paper's own F1 (macro)
    # the embedded profile's single-task KD takes the paper's form too (the Bernoulli form stalls under annealing)
    for stack in (["baseline_embedded", "kd_embedded"], ["baseline_embedded", "kd_embedded", "kd_ta"]):
        _, e = parse_method_args("distil", [a for n in stack for a in ("--config", str(r / f"{n}.yaml"))])
        assert e.kd_loss == "kl_softmax"
    _, aux = parse_method_args("train", ["--config", str(r / "baseline.yaml"), "--config", str(r / "stl_aux.yaml")])
    assert aux.loss == "bce_single_label"  # BCEWithLogitsLoss for every task
    _, mtkd = parse_config_args(
        ["--config", str(r / "mtl.yaml"), "--config", str(r / "mtkd.yaml")], (MultiTaskRunArguments, MultiTaskConfig)
    )
    assert mtkd.kd_loss == "kl_softmax"
    assert mtkd.task_losses == {"laroseda": "bce_single_label", "ag_news": "bce_single_label"}
    _, mtl002 = parse_config_args(
        ["--config", str(ROOT / "recipes/mtl_disparate_labels/configs/paper.yaml")],
        (MultiTaskRunArguments, MultiTaskConfig),
    )
    assert mtl002.task_sampler == "mixed"  # TBED-MTL §4: tasks mixed inside each batch
    # "ADAM ... learning rate 3e-4, weight decay of 1e-3": Adam with the decay in the gradient, in both profiles
    for name in ("paper", "embedded"):
        _, c = parse_config_args(
            ["--config", str(ROOT / f"recipes/mtl_disparate_labels/configs/{name}.yaml")],
            (MultiTaskRunArguments, MultiTaskConfig),
        )
        assert (c.weight_decay_form, c.learning_rate, c.weight_decay) == ("l2", 3e-4, 1e-3)


def test_kd_loss_form_study_runs_each_form_per_seed(echo_bin, tmp_path):
    mtl = tmp_path / "mtl"  # 07's study: seed 1's mtkd_ta finished, seed 2's not yet
    (mtl / "mtkd_ta_s1").mkdir(parents=True)
    (mtl / "mtkd_ta_s1" / "metrics.json").write_text("{}")
    env = {**_echo_env(echo_bin, tmp_path), "SEEDS": "1 2", "OUT": str(tmp_path / "f"), "MTL_STUDY": str(mtl)}
    res = subprocess.run(
        ["bash", str(ROOT / "recipes/romanian_mtkd/12_kd_loss_form.sh"), "--profile", "embedded"],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    calls = {
        c.split("--output_dir ")[1].split()[0]: c
        for c in res.stdout.splitlines()
        if c.split()[0] in ("train", "distil", "mtl") and "--output_dir " in c
    }
    runs = {Path(d).name for d in calls if Path(d).parent == tmp_path / "f"}
    # MTKD-TA in the embedded profile's own form (kl_softmax since 2026-12-04) is 07's mtkd_ta run: only the other
    # (the per-label Bernoulli KL) is run here
    want = (
        {f"baseline_s{s}" for s in (1, 2)}
        | {f"{kind}_{form}_s{s}" for kind in ("kd", "kd_ta") for form in ("kl_bernoulli", "kl_softmax") for s in (1, 2)}
        | {"mtkd_ta_kl_bernoulli_s1", "mtkd_ta_kl_bernoulli_s2"}
    )
    assert runs == want
    mtkd = calls[str(tmp_path / "f" / "mtkd_ta_kl_bernoulli_s2")]
    assert '--task_kd_losses {"redv2": "kl_bernoulli"}' in mtkd and "--kd_loss" not in mtkd  # aux tasks keep theirs
    assert f'"redv2": "{mtl}/stl_redv2_s42"' in mtkd  # 07's teachers, as its mtkd_ta runs
    assert "07_mtl_study.sh's mtkd_ta_s2, not run yet" in res.stderr and "mtkd_ta_s1," not in res.stderr
    assert "--kd_loss kl_softmax" in calls[str(tmp_path / "f" / "kd_kl_softmax_s2")]
    assert "kd_ta" in calls[str(tmp_path / "f" / "kd_ta_kl_bernoulli_s1")]  # the teacher-annealing overlay
    tables = [c for c in res.stdout.splitlines() if c.startswith("table seeds")]
    assert len(tables) == 2 and all("f1_macro" in t for t in tables)
    assert f"MTKD-TA kl_softmax={mtl}/mtkd_ta_s*" in tables[1]
    assert f"MTKD-TA kl_bernoulli={tmp_path / 'f'}/mtkd_ta_kl_bernoulli_s*" in tables[1]


def test_quality_study_varies_estimate_normalisation_and_teacher(echo_bin, tmp_path):
    env = {**_echo_env(echo_bin, tmp_path), "SEEDS": "1", "OUT": str(tmp_path / "w")}
    res = subprocess.run(
        ["bash", str(ROOT / "recipes/wang2024_consistency_kd/quality_study.sh"), "--profile", "embedded"],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    calls = {c.split("--output_dir ")[1].split()[0]: c for c in res.stdout.splitlines() if "--output_dir " in c}
    names = {Path(d).name for d in calls}
    assert {
        "teacher_s1",
        "stage1_s1",
        "uniform_s1",
        "quality_s1",
        "threshold_s1",
        "quality_batch_s1",
        "weak_teacher_s1",
        "weak_uniform_s1",
        "weak_quality_s1",
    } <= names
    assert "--weight_normalization batch" in calls[str(tmp_path / "w" / "quality_batch_s1")]
    assert "--max_train_samples 1500 --num_train_epochs 1" in calls[str(tmp_path / "w" / "weak_teacher_s1")]
    assert f"--teacher {tmp_path}/w/weak_teacher_s1" in calls[str(tmp_path / "w" / "weak_quality_s1")]


def test_annotator_kd_study_distils_the_vote_shares_without_a_model_teacher(echo_bin, tmp_path):
    from hf_emo.jobs.arguments import parse_method_args

    env = {**_echo_env(echo_bin, tmp_path), "SEEDS": "1", "OUT": str(tmp_path / "a"), "KD_FORM_STUDY": "runs/kdf"}
    res = subprocess.run(
        ["bash", str(ROOT / "recipes/romanian_mtkd/13_annotator_kd.sh"), "--profile", "embedded"],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    calls = [c for c in res.stdout.splitlines() if c.startswith("distil ")]
    # each KD arm in each loss form, the form named on the command line (not left to the profile's kd_loss)
    assert [c.split("--output_dir ")[1].split()[0] for c in calls] == [
        str(tmp_path / "a" / f"{kind}_{form}_s1") for form in ("kl_bernoulli", "kl_softmax") for kind in ("kd", "kd_ta")
    ]
    for call, (kind, form) in zip(calls, [(k, f) for f in ("kl_bernoulli", "kl_softmax") for k in ("kd", "kd_ta")]):
        assert f"--kd_loss {form} --seed 1" in call
        assert ("kd_ta.yaml" in call) == (kind == "kd_ta")
    table = [c for c in res.stdout.splitlines() if c.startswith("table seeds")][0]
    assert "baseline=runs/kdf/baseline_s*" in table and "--baseline baseline" in table
    assert f"KD-TA, annotators' shares, kl_softmax={tmp_path / 'a'}/kd_ta_kl_softmax_s*" in table
    only = subprocess.run(
        ["bash", str(ROOT / "recipes/romanian_mtkd/13_annotator_kd.sh"), "--profile", "embedded"],
        capture_output=True,
        text=True,
        env={**env, "ONLY": "kd_ta_kl_softmax_s1"},
        check=True,
    )
    assert [c.split("--output_dir ")[1].split()[0] for c in only.stdout.splitlines() if c.startswith("distil ")] == [
        str(tmp_path / "a" / "kd_ta_kl_softmax_s1")
    ]
    c = ROOT / "recipes/romanian_mtkd/configs"
    for stack in (["baseline_embedded", "kd_embedded"], ["baseline", "kd", "kd_ta"]):
        run, cfg = parse_method_args(
            "distil", [a for n in [*stack, "annotator_kd"] for a in ("--config", str(c / f"{n}.yaml"))]
        )
        assert run.teacher == [] and run.teacher_column == "soft_labels" and run.task == "redv2"
