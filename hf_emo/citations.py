"""BibTeX of the papers hf_emo implements; trainers name theirs by key (``MethodDescription.citations``)."""

from __future__ import annotations

__all__ = ["BIBTEX"]

BIBTEX = {
    "matei_mtkd": """@misc{matei_mtkd_romanian,
  title  = {Cross-Lingual and Multi-Task Learning with Knowledge Distillation for Emotion Recognition in
            Low-Resource Romanian},
  author = {Matei, Vlad-Cristian},
  note   = {National University of Science and Technology POLITEHNICA Bucharest}
}""",
    "hinton2015": """@article{hinton2015distilling,
  title   = {Distilling the Knowledge in a Neural Network},
  author  = {Hinton, Geoffrey and Vinyals, Oriol and Dean, Jeff},
  journal = {arXiv preprint arXiv:1503.02531},
  year    = {2015}
}""",
    "clark2019": """@inproceedings{clark2019bam,
  title     = {{BAM}! Born-Again Multi-Task Networks for Natural Language Understanding},
  author    = {Clark, Kevin and Luong, Minh-Thang and Khandelwal, Urvashi and Manning, Christopher D. and Le, Quoc V.},
  booktitle = {Proceedings of the 57th Annual Meeting of the Association for Computational Linguistics},
  pages     = {5931--5937},
  year      = {2019}
}""",
    "avram2022": """@inproceedings{avram2022distilling,
  title     = {Distilling the Knowledge of {R}omanian {BERT}s Using Multiple Teachers},
  author    = {Avram, Andrei-Marius and Catrina, Darius and Cercel, Dumitru-Clementin and Dasc{\\u{a}}lu, Mihai and
               Rebedea, Traian and P{\\u{a}}{\\c{s}}, Vasile and Tufi{\\c{s}}, Dan},
  booktitle = {Proceedings of the Thirteenth Language Resources and Evaluation Conference},
  year      = {2022}
}""",
    "mtl_disparate": """@misc{mtl_disparate_labels,
  title = {Multi-task learning for Text-based Emotion Detection across disparate label spaces},
  note  = {authors listed by student number only}
}""",
    "lin2017": """@inproceedings{lin2017focal,
  title     = {Focal Loss for Dense Object Detection},
  author    = {Lin, Tsung-Yi and Goyal, Priya and Girshick, Ross and He, Kaiming and Doll{\\'a}r, Piotr},
  booktitle = {Proceedings of the IEEE International Conference on Computer Vision},
  pages     = {2980--2988},
  year      = {2017}
}""",
    "szegedy2016": """@inproceedings{szegedy2016rethinking,
  title     = {Rethinking the Inception Architecture for Computer Vision},
  author    = {Szegedy, Christian and Vanhoucke, Vincent and Ioffe, Sergey and Shlens, Jon and Wojna, Zbigniew},
  booktitle = {Proceedings of the IEEE Conference on Computer Vision and Pattern Recognition (CVPR)},
  pages     = {2818--2826},
  year      = {2016}
}""",
    "hu2022lora": """@inproceedings{hu2022lora,
  title     = {{LoRA}: Low-Rank Adaptation of Large Language Models},
  author    = {Hu, Edward J. and Shen, Yelong and Wallis, Phillip and Allen-Zhu, Zeyuan and Li, Yuanzhi and Wang, Shean
               and Wang, Lu and Chen, Weizhu},
  booktitle = {International Conference on Learning Representations},
  year      = {2022}
}""",
    "dettmers2023": """@inproceedings{dettmers2023qlora,
  title     = {{QLoRA}: Efficient Finetuning of Quantized {LLM}s},
  author    = {Dettmers, Tim and Pagnoni, Artidoro and Holtzman, Ari and Zettlemoyer, Luke},
  booktitle = {Advances in Neural Information Processing Systems},
  year      = {2023}
}""",
    "sanh2019": """@article{sanh2019distilbert,
  title   = {{DistilBERT}, a distilled version of {BERT}: smaller, faster, cheaper and lighter},
  author  = {Sanh, Victor and Debut, Lysandre and Chaumond, Julien and Wolf, Thomas},
  journal = {arXiv preprint arXiv:1910.01108},
  year    = {2019}
}""",
    "chen2018": """@inproceedings{chen2018gradnorm,
  title     = {{GradNorm}: Gradient Normalization for Adaptive Loss Balancing in Deep Multitask Networks},
  author    = {Chen, Zhao and Badrinarayanan, Vijay and Lee, Chen-Yu and Rabinovich, Andrew},
  booktitle = {International Conference on Machine Learning},
  pages     = {794--803},
  year      = {2018}
}""",
    "wang2024": """@inproceedings{wang2024knowledge,
  title     = {Knowledge Distillation from Monolingual to Multilingual Models for Intelligent and Interpretable
               Multilingual Emotion Detection},
  author    = {Wang, Yuqi and Wang, Zimu and Han, Nijia and Wang, Wei and Chen, Qi and Zhang, Haiyang and Pan, Yushan
               and Nguyen, Anh},
  booktitle = {Proceedings of the 14th Workshop on Computational Approaches to Subjectivity, Sentiment, \\& Social
               Media Analysis (WASSA)},
  year      = {2024}
}""",
    "chen2018adan": """@article{chen2018adan,
  title   = {Adversarial Deep Averaging Networks for Cross-Lingual Sentiment Classification},
  author  = {Chen, Xilun and Sun, Yu and Athiwaratkun, Ben and Cardie, Claire and Weinberger, Kilian},
  journal = {Transactions of the Association for Computational Linguistics},
  volume  = {6},
  pages   = {557--570},
  year    = {2018}
}""",
    "xu2021": """@misc{xu2021gradual,
  title  = {Gradual Fine-Tuning for Low-Resource Domain Adaptation},
  author = {Xu, Haoran and Ebner, Seth and Yarmohammadi, Mahsa and White, Aaron Steven and Van Durme, Benjamin and
            Murray, Kenton},
  year   = {2021},
  eprint = {2103.02205}
}""",
}
